"""The factories of the ``agentgen_worker`` and ``agentgen_nats_worker`` fixtures.

Import nothing heavy: a runtime is imported when the first worker is made,
so tests that never use gRPC (or NATS) never import grpc (or nats-py).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from .deadlines import START_TIMEOUT, STOP_TIMEOUT, deadline

if TYPE_CHECKING:
    from agentgen.runtime import BaseRuntime
    from agentgen.runtime.grpc import GrpcWorkerRuntime
    from agentgen.runtime.nats import NatsWorkerRuntime

    from .deliveries import Deliveries

__all__ = ["NatsWorkerFactory", "WorkerFactory"]


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
        await _start(
            worker,
            f"the worker of {worker.host_address}",
            self._deliveries,
            self._stack,
        )
        self.workers.append(worker)
        return worker

    async def stop_all(self) -> None:
        """Stop every worker made, the last first (all of them, even if one fails)."""
        await self._stack.aclose()


class NatsWorkerFactory:
    """Makes started ``NatsWorkerRuntime``s on a NATS server (``agentgen_nats_worker``).

    Every worker of one test shares a namespace of the test's own (its
    routing state and subjects); keyword arguments go to
    ``NatsWorkerRuntime``. :meth:`stop_all` stops them, the last made first.
    """

    def __init__(
        self, url: str, namespace: str, deliveries: Deliveries | None = None
    ) -> None:
        self.url = url
        """The NATS server workers connect to."""
        self.namespace = namespace
        """The namespace the test's workers share."""
        self.workers: list[NatsWorkerRuntime] = []
        self._deliveries = deliveries
        self._stack = contextlib.AsyncExitStack()

    async def __call__(self, **options: Any) -> NatsWorkerRuntime:
        """A started worker of the test's namespace (lease 3 s unless told)."""
        from agentgen.runtime.nats import NatsWorkerRuntime

        options = {"namespace": self.namespace, "lease": 3.0, **options}
        worker = NatsWorkerRuntime(self.url, **options)
        await _start(
            worker, f"the NATS worker on {self.url}", self._deliveries, self._stack
        )
        self.workers.append(worker)
        return worker

    async def stop_all(self) -> None:
        """Stop every worker made, the last first (all of them, even if one fails)."""
        await self._stack.aclose()


async def _start(
    worker: BaseRuntime,
    what: str,
    deliveries: Deliveries | None,
    stack: contextlib.AsyncExitStack,
) -> None:
    if deliveries is not None:
        deliveries.watch(worker)
    async with deadline(START_TIMEOUT, f"starting {what} timed out"):
        await worker.start()
    stack.push_async_callback(_stop, worker, what)


async def _stop(worker: BaseRuntime, what: str) -> None:
    async with deadline(STOP_TIMEOUT, f"stopping {what} timed out"):
        await worker.stop()
