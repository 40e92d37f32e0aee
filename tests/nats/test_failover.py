"""Losing one server of a three-server NATS cluster under load.

Two workers, each given all three URLs, a routing bucket with three replicas.
The server the caller is connected to is killed (SIGKILL) while RPCs and
events flow: every RPC ends with a reply or a reported error (delivered +
failed = sent, none hangs), the caller reconnects to another server, and
traffic goes on. Events are counted: core NATS delivers at most once, so the
ones in flight when the server died may be lost; the test bounds how many.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import AgentgenError, AgentId, TopicId
from agentgen.runtime.nats import NatsWorkerRuntime
from tests.support.agents import Arrivals, Collector, register_collector
from tests.support.nats_servers import NatsCluster

pytestmark = pytest.mark.timeout(180)

LEASE = 10.0
"""Longer than a stream leader election (4-7 s here: docs/nats-notes.md)."""
CALLS = 600
EVENTS = 600
CALL_TIMEOUT = 5.0


@pytest.fixture
async def pair(
    nats_cluster: NatsCluster, nats_namespace: str
) -> AsyncIterator[tuple[NatsWorkerRuntime, NatsWorkerRuntime, Arrivals]]:
    urls = nats_cluster.urls
    arrivals = Arrivals()

    def worker() -> NatsWorkerRuntime:
        return NatsWorkerRuntime(
            urls,
            namespace=nats_namespace,
            lease=LEASE,
            kv_replicas=3,
            rpc_timeout=CALL_TIMEOUT,
        )

    async with worker() as callee, worker() as caller:
        await register_collector(callee, arrivals)
        await caller.wait_for_agent_types(Collector.AGENT_TYPE)
        yield callee, caller, arrivals


async def test_losing_a_server_ends_every_rpc_and_traffic_goes_on(
    nats_cluster: NatsCluster,
    pair: tuple[NatsWorkerRuntime, NatsWorkerRuntime, Arrivals],
) -> None:
    _, caller, arrivals = pair
    connected = caller.connected_url
    assert connected is not None
    victim = next(
        index
        for index, server in enumerate(nats_cluster.servers)
        if server.url.rpartition(":")[2] == connected.rpartition(":")[2]
    )
    outcomes: dict[str, int] = {"replies": 0, "failures": 0}
    published = 0
    warmed_up = asyncio.Event()

    async def call(n: int) -> None:
        try:
            await caller.send_message(
                wrappers_pb2.StringValue(value=f"c{n}"),
                AgentId(Collector.AGENT_TYPE, f"k{n % 20}"),
                timeout=CALL_TIMEOUT,
            )
            outcomes["replies"] += 1
            if outcomes["replies"] >= 200:
                warmed_up.set()
        except AgentgenError:
            outcomes["failures"] += 1

    async def load() -> None:
        nonlocal published
        for n in range(CALLS):
            # 8 calls in flight at a time, events between them.
            await asyncio.gather(*(call(n * 8 + i) for i in range(8)))
            if n < EVENTS:
                try:
                    await caller.publish_message(
                        wrappers_pb2.Int64Value(value=n), TopicId("news", "k")
                    )
                    published += 1
                except AgentgenError:
                    pass

    loader = asyncio.create_task(load())
    await asyncio.wait_for(warmed_up.wait(), 60)  # the kill comes mid-load
    killed_at = time.monotonic()
    nats_cluster.kill(victim)
    await asyncio.wait_for(loader, 120)
    assert outcomes["replies"] + outcomes["failures"] == CALLS * 8
    assert outcomes["replies"] > CALLS * 8 / 2
    assert caller.counters.reconnects >= 1
    assert caller.connected_url not in (None, connected)
    # Traffic goes on after the loss.
    reply = await caller.send_message(
        wrappers_pb2.StringValue(value="after"), AgentId(Collector.AGENT_TYPE, "z")
    )
    assert reply == wrappers_pb2.StringValue(value="echo:after")
    # Events: every published one that was not lost arrives once; the loss is
    # bounded by what was in flight around the kill. A last event marks the
    # end: NATS keeps one publisher's order, so all others came before it.
    marker = 10**9
    await caller.publish_message(
        wrappers_pb2.Int64Value(value=marker), TopicId("news", "k")
    )
    await arrivals.wait_for_value(str(marker), 30)
    numbers = [
        int(value)
        for value in arrivals.values()
        if value.isdigit() and int(value) != marker
    ]
    assert len(numbers) == len(set(numbers))
    lost = published - len(numbers)
    print(
        f"failover: {outcomes['failures']} of {CALLS * 8} RPCs failed, "
        f"{lost} of {published} events lost, reconnected in "
        f"{time.monotonic() - killed_at:.2f}s or less"
    )
    assert 0 <= lost <= published // 4
