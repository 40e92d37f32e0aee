"""A worker process is SIGKILLed while serving RPCs.

Its callers get an error in bounded time, and the host frees the worker's
agent type at once, so a restarted worker can register it and serve again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import AgentId
from agentgen.runtime.grpc import ConnectionLostError, GrpcHost, GrpcWorkerRuntime

from .children import ChildProcess, Children, spawned

pytestmark = pytest.mark.timeout(120)

START_TIMEOUT = 60.0
FAILS_WITHIN = 2.0
"""Seconds within which a caller must learn that its callee died."""
CALLS = 5


@contextlib.asynccontextmanager
async def host_and_caller() -> AsyncIterator[tuple[GrpcHost, GrpcWorkerRuntime]]:
    async with GrpcHost("127.0.0.1:0", rpc_timeout=60) as host:
        caller = GrpcWorkerRuntime(host.address, rpc_timeout=60, connect_timeout=20)
        await asyncio.wait_for(caller.start(), START_TIMEOUT)
        try:
            yield host, caller
        finally:
            await asyncio.wait_for(caller.stop(), START_TIMEOUT)


async def start_echo(children: Children, address: str, agent_type: str) -> ChildProcess:
    worker = await children.start(
        "echo-worker", ["-m", "tests.reliability.echo_worker", address, agent_type]
    )
    assert await worker.read_line(START_TIMEOUT) == "ready"
    return worker


async def test_callers_fail_fast_and_a_restarted_worker_takes_the_type_back(
    tmp_path: Path,
) -> None:
    target = AgentId("echo", "k")
    async with host_and_caller() as (host, caller), spawned(tmp_path) as children:
        worker = await start_echo(children, host.address, "echo")
        first_owner = host.agent_types["echo"]
        assert await caller.send_message(
            wrappers_pb2.StringValue(value="hi"), target
        ) == wrappers_pb2.StringValue(value="echo:hi")

        calls = [
            asyncio.create_task(
                caller.send_message(
                    wrappers_pb2.StringValue(value="hang"), AgentId("echo", f"k{n}")
                )
            )
            for n in range(CALLS)
        ]
        for _ in range(CALLS):  # every call is being handled: mid-RPC
            assert (await worker.read_line(START_TIMEOUT)).startswith("handling ")
        killed_at = time.monotonic()
        worker.kill()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*calls, return_exceptions=True), FAILS_WITHIN * 5
        )
        failed_after = time.monotonic() - killed_at
        for outcome in outcomes:
            assert isinstance(outcome, ConnectionLostError), outcome
            assert "echo" in str(outcome)
        assert failed_after < FAILS_WITHIN
        assert host.counters.rpc_target_lost == CALLS
        assert "echo" not in host.agent_types  # freed with the dead stream

        restarted = await start_echo(children, host.address, "echo")
        assert host.agent_types["echo"] != first_owner
        reply = await caller.send_message(
            wrappers_pb2.StringValue(value="again"), target
        )
        assert reply == wrappers_pb2.StringValue(value="echo:again")
        restarted.kill()
    assert caller.counters.rpc_failed == CALLS
