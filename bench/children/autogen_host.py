"""AutoGen 0.7.5's ``GrpcWorkerAgentRuntimeHost`` on 127.0.0.1, for scenarios 3-7.

Usage: ``autogen_host.py`` (the AutoGen venv). Prints ``ready`` with the
address once the port accepts connections; ``stop`` ends it. Protocol:
``childio``.
"""

from __future__ import annotations

import asyncio
import time

import grpc
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntimeHost
from childio import Control, emit, free_port, run_child, serve_until_stop

CONNECT_TIMEOUT_SECONDS = 30.0


async def wait_until_serving(address: str) -> None:
    """Return once a gRPC channel to ``address`` is ready."""
    async with grpc.aio.insecure_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), CONNECT_TIMEOUT_SECONDS)


async def serve(control: Control) -> None:
    """Start the host, report its address, run until ``stop``."""
    # AutoGen's host cannot report the port that port 0 picked.
    address = f"127.0.0.1:{free_port()}"
    host = GrpcWorkerAgentRuntimeHost(address)
    host.start()
    await wait_until_serving(address)
    emit("ready", address=address, t=time.monotonic())
    await serve_until_stop(control)
    await host.stop(grace=0)


if __name__ == "__main__":
    run_child(serve)
