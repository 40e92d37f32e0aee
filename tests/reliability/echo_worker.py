"""A worker process serving one agent type, to be killed mid-RPC.

Usage (from the repository root):
``python -m tests.reliability.echo_worker HOST:PORT TYPE``.
Registers an :class:`Echo` agent as TYPE and prints ``ready``; the agent
answers ``StringValue`` requests with ``echo:<value>``, except ``hang``,
for which it prints ``handling <request id>`` and never answers.
"""

from __future__ import annotations

import asyncio
import sys
from typing import ClassVar

from google.protobuf import wrappers_pb2

from agentgen.runtime import Agent, Handler, MessageContext
from agentgen.runtime.grpc import GrpcWorkerRuntime


class Echo(Agent):
    """Echoes strings; hangs on ``hang``."""

    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
    )

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        if message.value == "hang":
            print(f"handling {ctx.message_id}", flush=True)
            await asyncio.Event().wait()
        return wrappers_pb2.StringValue(value=f"echo:{message.value}")


async def main(address: str, agent_type: str) -> None:
    async with GrpcWorkerRuntime(address, connect_timeout=30) as worker:
        await worker.register_factory(agent_type, Echo)
        print("ready", flush=True)
        await worker.stop_when_signal()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
