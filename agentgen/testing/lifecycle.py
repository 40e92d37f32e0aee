"""Starting and stopping what the fixtures run, every wait bounded.

Imports nothing heavy: the gRPC runtime is imported when the first worker
is made, so tests that never use gRPC never import grpc.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentgen.runtime.grpc import GrpcWorkerRuntime

    from .deliveries import Deliveries

__all__ = ["START_TIMEOUT", "STOP_TIMEOUT", "WorkerFactory", "bounded"]

START_TIMEOUT = 30.0
"""Seconds a fixture's runtime or host may take to start."""
STOP_TIMEOUT = 30.0
"""Seconds a fixture's runtime or host may take to stop."""


async def bounded(
    step: Callable[[], Awaitable[None]], what: str, timeout: float
) -> None:
    """Run ``step()``; fail with ``what`` in the message after ``timeout`` seconds."""
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            await step()
    except TimeoutError:
        if not deadline.expired():
            raise
        raise AssertionError(f"{what} took more than {timeout:g} s") from None


class WorkerFactory:
    """Makes started ``GrpcWorkerRuntime``s connected to one host (``agentgen_worker``).

    ``worker = await agentgen_worker()`` connects to the ``agentgen_host``
    fixture; keyword arguments go to ``GrpcWorkerRuntime`` (``host_address``
    picks another host). :meth:`stop_all` (the fixture's teardown) stops every
    worker made, the last one first.
    """

    def __init__(self, host_address: str, deliveries: Deliveries | None = None) -> None:
        self.host_address = host_address
        """The address workers connect to unless told otherwise."""
        self.workers: list[GrpcWorkerRuntime] = []
        """The workers made so far, in order."""
        self._deliveries = deliveries
        self._stack = contextlib.AsyncExitStack()

    async def __call__(
        self, host_address: str | None = None, **options: Any
    ) -> GrpcWorkerRuntime:
        """A started worker, connected to ``host_address`` (default: the host's)."""
        from agentgen.runtime.grpc import GrpcWorkerRuntime

        worker = GrpcWorkerRuntime(host_address or self.host_address, **options)
        if self._deliveries is not None:
            self._deliveries.watch(worker)
        await bounded(
            worker.start, f"starting a worker of {worker.host_address}", START_TIMEOUT
        )
        self.workers.append(worker)
        self._stack.push_async_callback(
            bounded,
            worker.stop,
            f"stopping the worker of {worker.host_address}",
            STOP_TIMEOUT,
        )
        return worker

    async def stop_all(self) -> None:
        """Stop every worker made, the last first (all of them, even if one fails)."""
        await self._stack.aclose()
