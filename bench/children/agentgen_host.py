"""agentgen's ``GrpcHost`` on 127.0.0.1 (a free port), for the scenarios through a host.

Usage: ``agentgen_host.py [--type-sharing exclusive|by-key|fan-out]``
(agentgen's venv; ``by-key`` for the scale-out scenario). Prints ``ready``
with the address once it listens; ``stop`` ends it. Protocol: ``childio``.
"""

from __future__ import annotations

import argparse
import time

from childio import Control, emit, run_child, serve_until_stop

from agentgen.runtime.grpc import GrpcHost


async def serve(control: Control) -> None:
    """Start the host, report its address, run until ``stop``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--type-sharing", default="exclusive")
    args = parser.parse_args()
    async with GrpcHost("127.0.0.1:0", type_sharing=args.type_sharing) as host:
        emit("ready", address=host.address, t=time.monotonic())
        await serve_until_stop(control)


if __name__ == "__main__":
    run_child(serve)
