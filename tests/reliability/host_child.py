"""A GrpcHost in a process of its own, driven over stdin.

Usage (from the repository root):
``python -m tests.reliability.host_child HOST:PORT``.
Prints ``listening ADDRESS``, then answers ``counters`` with
``counters {json}``; ``stop`` or the end of stdin stops the host and the
process.
"""

from __future__ import annotations

import asyncio
import json
import sys

from agentgen.runtime.grpc import GrpcHost


async def serve(address: str) -> None:
    host = GrpcHost(address)
    await host.start()
    print(f"listening {host.address}", flush=True)
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(commands), sys.stdin
    )
    try:
        while (line := await commands.readline()) and line.strip() != b"stop":
            if line.strip() == b"counters":
                print(f"counters {json.dumps(host.counters.snapshot())}", flush=True)
    finally:
        await host.stop(grace=1)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
