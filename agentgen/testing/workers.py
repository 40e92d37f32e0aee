"""The ``agentgen_worker`` fixture's factory of gRPC workers.

Imports nothing heavy: the gRPC runtime is imported when the first worker
is made, so tests that never use gRPC never import grpc.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .deadlines import START_TIMEOUT, STOP_TIMEOUT, deadline

if TYPE_CHECKING:
    from agentgen.runtime.grpc import GrpcWorkerRuntime

    from .deliveries import Deliveries

__all__ = ["WorkerFactory"]


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
        what = f"the worker of {worker.host_address}"
        async with deadline(START_TIMEOUT, f"starting {what} timed out"):
            await worker.start()
        self.workers.append(worker)
        self._stack.push_async_callback(_stop, worker, what)
        return worker

    async def stop_all(self) -> None:
        """Stop every worker made, the last first (all of them, even if one fails)."""
        await self._stack.aclose()


async def _stop(worker: GrpcWorkerRuntime, what: str) -> None:
    async with deadline(STOP_TIMEOUT, f"stopping {what} timed out"):
        await worker.stop()
