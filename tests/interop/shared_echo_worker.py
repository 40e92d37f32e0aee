"""An agentgen worker serving the interop contract's Echo under a shared type.

Usage (from the repository root, with the agentgen gencode of
``interop/v1/interop.proto`` on ``PYTHONPATH``):
``python -m tests.interop.shared_echo_worker HOST:PORT AGENT_TYPE NAME``.

Registers the contract's Echo as ``AGENT_TYPE`` (a type other workers serve
too, on a host sharing types), answers each ``EchoRequest`` with ``NAME`` as
``responder``, never answers a text starting ``hold:`` (so a test can keep
calls in flight), prints ``ready`` once registered, and runs until SIGTERM or
SIGINT (or until killed).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from typing import Any

from agentgen.runtime import Agent, MessageContext
from agentgen.runtime.grpc import GrpcWorkerRuntime


def echo_class(name: str) -> type[Agent]:
    """The generated Echo base, implemented to answer as process ``name``."""
    pb2 = importlib.import_module("interop.v1.interop_pb2")
    agents = importlib.import_module("interop.v1.interop_agents")

    class SharedEcho(agents.EchoBase):  # type: ignore[misc, name-defined]
        async def echo(self, message: Any, ctx: MessageContext) -> Any:
            if message.text.startswith("hold:"):
                await asyncio.Event().wait()  # never set: held until the end
            return pb2.EchoReply(text=f"echo:{message.text}", responder=name)

    return SharedEcho


async def main(address: str, agent_type: str, name: str) -> None:
    worker = GrpcWorkerRuntime(address, connect_timeout=20)
    await worker.start()
    await worker.register_agent_class(echo_class(name), agent_type=agent_type)
    print("ready", flush=True)
    await worker.stop_when_signal()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
