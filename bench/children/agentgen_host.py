"""agentgen's ``GrpcHost`` on 127.0.0.1 (a free port), for scenarios 3-7.

Usage: ``agentgen_host.py`` (agentgen's venv). Prints ``ready`` with the
address once it listens; ``stop`` ends it. Protocol: ``childio``.
"""

from __future__ import annotations

import time

from childio import Control, emit, run_child, serve_until_stop

from agentgen.runtime.grpc import GrpcHost


async def serve(control: Control) -> None:
    """Start the host, report its address, run until ``stop``."""
    async with GrpcHost("127.0.0.1:0") as host:
        emit("ready", address=host.address, t=time.monotonic())
        await serve_until_stop(control)


if __name__ == "__main__":
    run_child(serve)
