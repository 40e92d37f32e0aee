"""Several agentgen workers serving one agent type through a GrpcHost.

``fan-out`` (the .NET gateway's way): every worker of a subscribed type gets
each event once; the RPCs for one key go to one worker, which keeps them
while it lives, even when another worker joins. ``by-key``: each key is
served by one worker, which gets its events and its RPCs; a worker serving
two types, one of which a key's placement put elsewhere, delivers that key's
event only to its own. The AutoGen side of both: ``tests/interop``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import AgentId, TopicId
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime
from tests.support.agents import Arrivals, Collector, register_collector
from tests.support.grpc_harness import bounded, running_worker, wait_until

pytestmark = pytest.mark.timeout(60)

KEYS = [f"key-{n}" for n in range(40)]
CALLS_PER_KEY = 3


@dataclass
class Server:
    """A worker serving the ``collector`` type, and what its agents received."""

    worker: GrpcWorkerRuntime
    arrivals: Arrivals

    def events(self) -> list[str]:
        """The values of the events it received, in arrival order."""
        return [value for _, value, ctx in self.arrivals.items if not ctx.is_rpc]

    def rpc_keys(self) -> list[str]:
        """The agent key of every RPC it received."""
        return [key for key, _, ctx in self.arrivals.items if ctx.is_rpc]


@asynccontextmanager
async def sharing_host(mode: str) -> AsyncIterator[tuple[GrpcHost, AsyncExitStack]]:
    """A host in ``mode`` and a stack for the workers, stopped before the host."""
    async with (
        GrpcHost("127.0.0.1:0", type_sharing=mode, rpc_timeout=10) as host,
        AsyncExitStack() as workers,
    ):
        yield host, workers


async def add_server(host: GrpcHost, workers: AsyncExitStack) -> Server:
    """One more worker serving ``collector`` on ``host``."""
    worker = await workers.enter_async_context(running_worker(host.address))
    server = Server(worker, Arrivals())
    await register_collector(worker, server.arrivals)
    return server


async def publish_to_every_key(publisher: GrpcWorkerRuntime) -> None:
    """One event per key on the topic ``news``, its source being the key."""
    for key in KEYS:
        await publisher.publish_message(
            wrappers_pb2.StringValue(value=f"event-{key}"), TopicId("news", key)
        )


async def call_every_key(publisher: GrpcWorkerRuntime, agent_type: str) -> None:
    """``CALLS_PER_KEY`` RPCs to each ``agent_type/key``, concurrently."""
    calls = [
        publisher.send_message(
            wrappers_pb2.StringValue(value=f"rpc-{key}"), AgentId(agent_type, key)
        )
        for key in KEYS
        for _ in range(CALLS_PER_KEY)
    ]
    replies = await bounded(asyncio.gather(*calls))
    assert {reply.value for reply in replies} == {f"echo:rpc-{key}" for key in KEYS}


async def wait_for_total(arrivals: Sequence[Arrivals], count: int) -> None:
    """Wait (bounded) until ``arrivals`` hold ``count`` messages together."""
    await wait_until(
        lambda: sum(len(each.items) for each in arrivals) >= count,
        f"{count} messages",
    )


def rpc_placement(servers: Sequence[Server]) -> dict[str, int]:
    """Which server (by index) received the RPCs of each key; each key's all
    went to one server."""
    placement: dict[str, int] = {}
    for index, server in enumerate(servers):
        for key in server.rpc_keys():
            assert placement.setdefault(key, index) == index, f"{key} on two servers"
    return placement


async def test_fan_out_gives_every_worker_each_event_once_and_sticks_rpcs_by_key() -> (
    None
):
    async with sharing_host("fan-out") as (host, workers):
        servers = [await add_server(host, workers) for _ in range(2)]
        publisher = await workers.enter_async_context(running_worker(host.address))
        assert [s.worker.host_type_sharing for s in servers] == ["fan-out"] * 2
        assert len(host.agent_type_clients["collector"]) == 2

        await publish_to_every_key(publisher)
        for server in servers:
            await server.arrivals.wait_for(len(KEYS))
        await call_every_key(publisher, "collector")
        before = rpc_placement(servers)
        # A third worker joins: the keys stay where their RPCs went so far.
        servers.append(await add_server(host, workers))
        await call_every_key(publisher, "collector")
        for server in servers:
            await server.worker.stop_when_idle()

    expected = sorted(f"event-{key}" for key in KEYS)
    assert sorted(servers[0].events()) == expected
    assert sorted(servers[1].events()) == expected
    assert servers[2].events() == []  # it joined after the events
    assert host.counters.event_deliveries == 2 * len(KEYS)
    assert sorted(before) == sorted(KEYS)
    assert set(before.values()) == {0, 1}  # both workers serve keys
    assert rpc_placement(servers) == before
    assert servers[2].rpc_keys() == []
    for index, server in enumerate(servers[:2]):
        keys_here = list(before.values()).count(index)
        assert len(server.rpc_keys()) == 2 * CALLS_PER_KEY * keys_here


async def test_by_key_sends_a_keys_events_and_rpcs_to_one_worker() -> None:
    async with sharing_host("by-key") as (host, workers):
        servers = [await add_server(host, workers) for _ in range(3)]
        publisher = await workers.enter_async_context(running_worker(host.address))
        assert servers[0].worker.host_type_sharing == "by-key"

        await publish_to_every_key(publisher)
        await wait_for_total([server.arrivals for server in servers], len(KEYS))
        await call_every_key(publisher, "collector")
        for server in servers:
            await server.worker.stop_when_idle()

    assert host.counters.event_deliveries == len(KEYS)
    event_placement = {
        value.removeprefix("event-"): index
        for index, server in enumerate(servers)
        for value in server.events()
    }
    assert sorted(event_placement) == sorted(KEYS)  # each event exactly once
    assert sum(len(server.events()) for server in servers) == len(KEYS)
    assert rpc_placement(servers) == event_placement
    assert set(event_placement.values()) == {0, 1, 2}


async def test_by_key_a_worker_delivers_an_event_only_to_its_types_placed_here() -> (
    None
):
    """Worker A serves ``t1`` and ``t2``, worker B ``t1``: when a key's ``t1``
    lives on B, A gets the event for its ``t2`` only, and delivers it there."""
    async with sharing_host("by-key") as (host, workers):
        both = await workers.enter_async_context(running_worker(host.address))
        only_t1 = await workers.enter_async_context(running_worker(host.address))
        arrivals = {name: Arrivals() for name in ("A/t1", "A/t2", "B/t1")}
        for name, worker in (("A/t1", both), ("A/t2", both), ("B/t1", only_t1)):
            agent_type = name.split("/")[1]
            factory = functools.partial(Collector, arrivals[name])
            await worker.register_agent_class(Collector, factory, agent_type=agent_type)
        publisher = await workers.enter_async_context(running_worker(host.address))

        await publish_to_every_key(publisher)
        await arrivals["A/t2"].wait_for(len(KEYS))
        await wait_for_total([arrivals["A/t1"], arrivals["B/t1"]], len(KEYS))
        await both.stop_when_idle()
        await only_t1.stop_when_idle()

    t2_keys = [key for key, _, _ in arrivals["A/t2"].items]
    t1_keys = [key for name in ("A/t1", "B/t1") for key, _, _ in arrivals[name].items]
    assert sorted(t2_keys) == sorted(KEYS)
    assert sorted(t1_keys) == sorted(KEYS)  # once each: not again on A
    assert arrivals["B/t1"].items  # the case happened: some t1 keys live on B
    assert arrivals["A/t1"].items
