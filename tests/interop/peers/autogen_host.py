"""Run AutoGen 0.7.5's ``GrpcWorkerAgentRuntimeHost`` on loopback.

Usage: ``autogen_host.py [--address 127.0.0.1:0]`` with the AutoGen venv's
Python. Prints ``{"event": "listening", "address": "127.0.0.1:<port>"}`` once
the server accepts connections, then serves until stdin closes or a
``{"cmd": "stop"}`` line arrives, and prints ``{"event": "stopped"}``.
"""

# AutoGen exists only in the AutoGen venv, not where mypy runs:
# mypy: disable-error-code="import-not-found"

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntimeHost
from peer_io import emit, stdin_commands

READY_TIMEOUT_SECONDS = 10.0


@contextmanager
def recording_bound_ports(ports: list[int]) -> Iterator[None]:
    """Record the port of every ``add_insecure_port`` on servers made inside.

    The AutoGen host does not expose the port it bound, and port 0 (a free
    port chosen by the kernel) is the only race-free way to get one.
    """
    real_server: Callable[..., Any] = grpc.aio.server

    def server(*args: Any, **kwargs: Any) -> Any:
        made = real_server(*args, **kwargs)
        real_add = made.add_insecure_port

        def add_insecure_port(address: str) -> int:
            port: int = real_add(address)
            ports.append(port)
            return port

        made.add_insecure_port = add_insecure_port
        return made

    grpc.aio.server = server
    try:
        yield
    finally:
        grpc.aio.server = real_server


async def wait_until_serving(address: str) -> None:
    """Return once a client channel to ``address`` is ready (bounded)."""
    async with grpc.aio.insecure_channel(address) as channel:
        await asyncio.wait_for(channel.channel_ready(), READY_TIMEOUT_SECONDS)


async def main() -> None:
    parser = argparse.ArgumentParser(description="AutoGen host for interop tests")
    parser.add_argument("--address", default="127.0.0.1:0")
    options = parser.parse_args()
    ports: list[int] = []
    with recording_bound_ports(ports):
        host = GrpcWorkerAgentRuntimeHost(address=options.address)
    if len(ports) != 1 or ports[0] == 0:
        raise SystemExit(f"could not bind {options.address}: ports {ports}")
    address = f"{options.address.rsplit(':', 1)[0]}:{ports[0]}"
    host.start()
    await wait_until_serving(address)
    emit("listening", address=address)
    async for command in stdin_commands():
        if command.get("cmd") == "stop":
            break
    await host.stop(grace=0)
    emit("stopped")


if __name__ == "__main__":
    asyncio.run(main())
