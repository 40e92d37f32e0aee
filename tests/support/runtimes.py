"""The same tests on every runtime: in process, through a gRPC host, on NATS.

:func:`runtime_pair` yields a callee (where the test's agents live) and a
caller: the same runtime in process; two workers of one ``GrpcHost``; two
``NatsWorkerRuntime`` workers in a namespace of their own on the session's
NATS server. Everything started is stopped, in reverse order.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from agentgen.runtime import AgentRuntime, InProcessRuntime
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime
from agentgen.runtime.nats import NatsWorkerRuntime

__all__ = ["RUNTIME_KINDS", "runtime_pair", "until_routed"]

RUNTIME_KINDS = ("in-process", "grpc", "nats")
NATS_LEASE = 3.0
"""Seconds of a test worker's NATS lease (the shortest allowed)."""


@contextlib.asynccontextmanager
async def runtime_pair(
    kind: str,
    *,
    nats_url: str | None = None,
    namespace: str | None = None,
    **options: Any,
) -> AsyncIterator[tuple[AgentRuntime, AgentRuntime]]:
    """``(callee, caller)`` of runtime ``kind`` (see the module docstring)."""
    if kind == "in-process":
        async with InProcessRuntime(**options) as runtime:
            yield runtime, runtime
    elif kind == "grpc":
        async with (
            GrpcHost("127.0.0.1:0") as host,
            GrpcWorkerRuntime(host.address, **options) as callee,
            GrpcWorkerRuntime(host.address, **options) as caller,
        ):
            yield callee, caller
    elif kind == "nats":
        assert nats_url is not None and namespace is not None, "a NATS server"
        settings = {"namespace": namespace, "lease": NATS_LEASE, **options}
        async with (
            NatsWorkerRuntime(nats_url, **settings) as callee,
            NatsWorkerRuntime(nats_url, **settings) as caller,
        ):
            yield callee, caller
    else:
        raise ValueError(f"unknown runtime kind {kind!r}")


async def until_routed(caller: AgentRuntime, *agent_types: str) -> None:
    """Wait until ``caller`` can route to ``agent_types`` (NATS: its view)."""
    if isinstance(caller, NatsWorkerRuntime):
        await caller.wait_for_agent_types(*agent_types)
