"""Every way an RPC can fail ends the caller's await with a specific error, fast."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator

import pytest
from google.protobuf import empty_pb2, wrappers_pb2

from agentgen.runtime import (
    DEFAULT_RPC_TIMEOUT,
    AgentId,
    MessageTooLargeError,
    RemoteError,
    RpcTimeoutError,
    SerializationError,
    UndeliverableError,
    UnexpectedReplyError,
)
from agentgen.runtime.grpc import ConnectionLostError, GrpcHost, GrpcWorkerRuntime
from tests.support import REPO_ROOT
from tests.support.agents import Arrivals, Careless, Collector, Sleeper
from tests.support.grpc_harness import bounded, running_worker, wait_until

pytestmark = pytest.mark.timeout(60)

WORKER_PROCESS = "tests.grpc.e2e.worker_process"
"""A worker in a process of its own (run from the repository root)."""
FAST = 2.0
"""Every failure below must surface well within this many seconds."""


@pytest.fixture
async def host() -> AsyncIterator[GrpcHost]:
    async with GrpcHost("127.0.0.1:0") as running:
        yield running


@pytest.fixture
async def callee(host: GrpcHost) -> AsyncIterator[GrpcWorkerRuntime]:
    async with running_worker(host.address, max_message_size=1024 * 1024) as worker:
        await worker.register_agent_class(Collector, lambda: Collector(Arrivals()))
        await worker.register_agent_class(Sleeper)
        await worker.register_factory("careless", Careless)
        yield worker


@pytest.fixture
async def caller(host: GrpcHost) -> AsyncIterator[GrpcWorkerRuntime]:
    async with running_worker(host.address) as worker:
        yield worker


async def timed_failure(
    caller: GrpcWorkerRuntime,
    message: object,
    recipient: AgentId,
    error: type[Exception],
    timeout: float | None = None,
) -> Exception:
    started = time.monotonic()
    with pytest.raises(error) as raised:
        await bounded(
            caller.send_message(message, recipient, timeout=timeout), FAST * 2
        )
    assert time.monotonic() - started < FAST
    return raised.value


async def test_unknown_target_type(
    caller: GrpcWorkerRuntime, callee: GrpcWorkerRuntime
) -> None:
    raised = await timed_failure(
        caller, wrappers_pb2.StringValue(), AgentId("nobody", "k"), UndeliverableError
    )
    assert "nobody" in str(raised)


async def test_handler_raising(
    caller: GrpcWorkerRuntime, callee: GrpcWorkerRuntime
) -> None:
    raised = await timed_failure(
        caller,
        wrappers_pb2.StringValue(value="boom"),
        AgentId("collector", "k"),
        RemoteError,
    )
    assert isinstance(raised, RemoteError)
    assert (raised.remote_type, raised.remote_message) == (
        "ValueError",
        "boom requested",
    )


async def test_handler_returning_nothing(
    caller: GrpcWorkerRuntime, callee: GrpcWorkerRuntime
) -> None:
    raised = await timed_failure(
        caller,
        wrappers_pb2.BoolValue(value=True),
        AgentId("collector", "k"),
        UnexpectedReplyError,
    )
    assert "StringValue" in str(raised)


async def test_reply_that_cannot_be_encoded(
    caller: GrpcWorkerRuntime, callee: GrpcWorkerRuntime
) -> None:
    raised = await timed_failure(
        caller, wrappers_pb2.StringValue(), AgentId("careless", "k"), SerializationError
    )
    assert "Unencodable" in str(raised)


async def test_reply_over_the_callees_size_limit(
    caller: GrpcWorkerRuntime, callee: GrpcWorkerRuntime
) -> None:
    raised = await timed_failure(
        caller,
        wrappers_pb2.UInt64Value(value=2 * 1024 * 1024),
        AgentId("collector", "k"),
        MessageTooLargeError,
    )
    assert "max_message_size" in str(raised)
    small = await caller.send_message(
        wrappers_pb2.UInt64Value(value=3), AgentId("collector", "k")
    )
    assert small == wrappers_pb2.BytesValue(value=b"zzz")


async def test_no_reply_within_the_timeout(
    caller: GrpcWorkerRuntime, callee: GrpcWorkerRuntime
) -> None:
    raised = await timed_failure(
        caller, empty_pb2.Empty(), AgentId("sleeper", "k"), RpcTimeoutError, 0.3
    )
    assert "sleeper/k" in str(raised)
    # Without an explicit timeout, every call still has a finite one.
    assert GrpcWorkerRuntime("127.0.0.1:1").rpc_timeout == DEFAULT_RPC_TIMEOUT < 60


async def test_target_worker_process_killed_mid_call(
    host: GrpcHost, caller: GrpcWorkerRuntime
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        WORKER_PROCESS,
        host.address,
        "remote-sleeper",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    try:
        assert process.stdout is not None
        assert await bounded(process.stdout.readline(), 30) == b"ready\n"
        call = asyncio.create_task(
            caller.send_message(empty_pb2.Empty(), AgentId("remote-sleeper", "k"))
        )
        await wait_until(
            lambda: host.counters.rpc_forwarded == 1, "the request to be forwarded"
        )
        started = time.monotonic()
        process.kill()
        with pytest.raises(ConnectionLostError, match="remote-sleeper"):
            await bounded(call)
        assert time.monotonic() - started < FAST
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
