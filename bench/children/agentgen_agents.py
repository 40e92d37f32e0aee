"""The benchmark's agents on agentgen: the plugin's generated bases, implemented.

Runs in agentgen's venv, with the benchmark gencode (``benchproto``) on
``PYTHONPATH``; shared by the in-process and the worker children.
"""

from __future__ import annotations

from benchproto.agents_agents import EchoBase, SinkBase
from benchproto.ping_pb2 import Ping
from childio import Receiver, burn_cpu

from agentgen.runtime import MessageContext

__all__ = ["Burner", "Echo", "Sink"]


class Sink(SinkBase):
    """Counts every Ping."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def on_ping(self, message: Ping, ctx: MessageContext) -> None:
        self.receiver.on_message()


class Echo(EchoBase):
    """Answers each Ping with itself."""

    async def echo(self, message: Ping, ctx: MessageContext) -> Ping:
        return message


class Burner(SinkBase):
    """Spends ``seconds`` of CPU on each Ping, then counts it (scale-out)."""

    def __init__(self, receiver: Receiver, seconds: float) -> None:
        self.receiver = receiver
        self.seconds = seconds

    async def on_ping(self, message: Ping, ctx: MessageContext) -> None:
        burn_cpu(self.seconds)
        self.receiver.on_message()
