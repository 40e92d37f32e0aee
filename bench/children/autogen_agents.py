"""The benchmark's agents written for AutoGen 0.7.5 (``RoutedAgent``), as its docs do.

Runs only in the AutoGen venv, with the AutoGen gencode of ``ping.proto`` on
``PYTHONPATH``.
"""

from __future__ import annotations

from autogen_core import (
    MessageContext,
    RoutedAgent,
    event,
    rpc,
    type_subscription,
)
from benchproto.ping_pb2 import Ping
from childio import BENCH_TOPIC, Receiver
from google.protobuf import json_format

__all__ = ["Echo", "PingJsonSerializer", "Sink"]


@type_subscription(topic_type=BENCH_TOPIC)
class Sink(RoutedAgent):
    """Counts every Ping published on the bench topic."""

    def __init__(self, receiver: Receiver) -> None:
        super().__init__("counts Pings")
        self.receiver = receiver

    @event
    async def on_ping(self, message: Ping, ctx: MessageContext) -> None:
        """Count one Ping."""
        self.receiver.on_message()


class Echo(RoutedAgent):
    """Answers each Ping with itself."""

    def __init__(self) -> None:
        super().__init__("echoes Pings")

    @rpc
    async def echo(self, message: Ping, ctx: MessageContext) -> Ping:
        """Return the Ping."""
        return message


class PingJsonSerializer:
    """JSON for Ping: AutoGen sends every RPC as JSON and has none for protobuf.

    (performance-baseline.md, failure 2: registered on both sides for RPC.)
    """

    data_content_type = "application/json"
    type_name = Ping.DESCRIPTOR.full_name

    def serialize(self, message: Ping) -> bytes:
        """Ping to JSON bytes."""
        text: str = json_format.MessageToJson(message)
        return text.encode()

    def deserialize(self, payload: bytes) -> Ping:
        """JSON bytes to Ping."""
        message = Ping()
        json_format.Parse(payload, message)
        return message
