"""A worker in a process of its own, for tests that kill it mid-call.

Usage (from the repository root):
``python -m tests.grpc.e2e.worker_process HOST:PORT AGENT_TYPE``. Registers a
Sleeper (it never answers) as AGENT_TYPE, prints ``ready``, runs until killed.
"""

from __future__ import annotations

import asyncio
import sys

from agentgen.runtime.grpc import GrpcWorkerRuntime
from tests.support.agents import Sleeper


async def main(address: str, agent_type: str) -> None:
    worker = GrpcWorkerRuntime(address, connect_timeout=20)
    await worker.start()
    await worker.register_agent_class(Sleeper, agent_type=agent_type)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
