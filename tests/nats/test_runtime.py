"""NatsWorkerRuntime's API and delivery semantics between two workers.

The same ``AgentRuntime`` API as the other runtimes: servers from the
argument or ``AGENTGEN_NATS_URL``, clear connection errors, AutoGen's
subscription semantics (type, prefix, default, dots in topic types, the
topic source as the key), per-publisher order, and RPC failures that end at
once or at the deadline, never hang.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from google.protobuf import empty_pb2, wrappers_pb2

from agentgen.runtime import (
    AgentId,
    DefaultSubscription,
    RemoteError,
    RpcTimeoutError,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    UndeliverableError,
)
from agentgen.runtime.nats import NatsWorkerRuntime
from agentgen.runtime.nats.batcher import HIGH_WATER
from tests.support.agents import Arrivals, Collector, Sleeper, register_collector
from tests.support.nats_servers import NatsServer, free_ports

pytestmark = pytest.mark.timeout(60)

Pair = tuple[NatsWorkerRuntime, NatsWorkerRuntime, Arrivals]


@pytest.fixture
async def pair(
    nats_session_server: NatsServer, nats_namespace: str
) -> AsyncIterator[Pair]:
    """A worker serving ``collector`` and a worker that only calls and publishes."""
    arrivals = Arrivals()
    url = nats_session_server.url
    async with (
        NatsWorkerRuntime(url, namespace=nats_namespace, lease=3) as callee,
        NatsWorkerRuntime(url, namespace=nats_namespace, lease=3) as caller,
    ):
        await register_collector(callee, arrivals)
        await caller.wait_for_agent_types(Collector.AGENT_TYPE)
        yield callee, caller, arrivals


async def test_no_server_is_a_clear_connection_error_at_once() -> None:
    [port] = free_ports(1)
    runtime = NatsWorkerRuntime(f"nats://127.0.0.1:{port}", connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(ConnectionError, match=rf"127\.0\.0\.1:{port}"):
        await runtime.start()
    assert time.monotonic() - started < 5
    assert not runtime.is_running


def test_servers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTGEN_NATS_URL", "nats://a:1, nats://b:2")
    assert NatsWorkerRuntime().settings.servers == ("nats://a:1", "nats://b:2")
    monkeypatch.delenv("AGENTGEN_NATS_URL")
    assert NatsWorkerRuntime().settings.servers == ("nats://127.0.0.1:4222",)
    with pytest.raises(ValueError, match="expected a URL"):
        NatsWorkerRuntime("127.0.0.1:4222")
    with pytest.raises(ValueError, match="namespace"):
        NatsWorkerRuntime(namespace="has.dots")


async def test_subscription_kinds_route_as_autogens(pair: Pair) -> None:
    callee, caller, arrivals = pair
    await callee.add_subscription(TypeSubscription("a.b.c", Collector.AGENT_TYPE))
    assert DefaultSubscription(agent_type=Collector.AGENT_TYPE) in callee.subscriptions
    await caller.wait_for_agent_types(Collector.AGENT_TYPE)
    while len(caller.view.subscriptions) < len(callee.subscriptions):
        await caller.view.wait_changed(5.0)
    for topic in (
        TopicId("news", "k1"),  # TOPIC_SUBSCRIPTIONS
        TopicId("alerts.fire", "k2"),  # PREFIX_SUBSCRIPTIONS "alerts."
        TopicId("a.b.c", "k3"),  # dots in a topic type
        TopicId("default", "k4"),
        TopicId("collector:direct", "k5"),  # the direct-message prefix
        TopicId("unrelated", "k6"),
    ):
        await caller.publish_message(wrappers_pb2.Int64Value(value=1), topic)
    await arrivals.wait_for(5)
    assert sorted(key for key, _, _ in arrivals.items) == ["k1", "k2", "k3", "k4", "k5"]
    assert all(ctx.topic_id is not None for _, _, ctx in arrivals.items)


async def test_events_from_one_publisher_arrive_in_order(pair: Pair) -> None:
    _, caller, arrivals = pair
    count = 2 * HIGH_WATER + 100  # several batches; the publisher runs ahead
    for n in range(count):
        await caller.publish_message(
            wrappers_pb2.Int64Value(value=n), TopicId("news", "k")
        )
    assert await arrivals.wait_for(count) == [str(n) for n in range(count)]
    assert caller.counters.events_sent == count
    assert caller.counters.batches_sent < count / 10


async def test_events_published_just_before_stop_are_sent(pair: Pair) -> None:
    _, caller, arrivals = pair
    for n in range(500):
        await caller.publish_message(
            wrappers_pb2.Int64Value(value=n), TopicId("news", "k")
        )
    await caller.stop()  # at once: the waiting batch goes out first
    assert await arrivals.wait_for(500) == [str(n) for n in range(500)]
    assert caller.counters.events_not_sent == 0


async def test_a_publisher_does_not_receive_its_own_event(pair: Pair) -> None:
    callee, caller, arrivals = pair
    me = AgentId(Collector.AGENT_TYPE, "k")
    await callee.publish_message(
        wrappers_pb2.Int64Value(value=1), TopicId("news", "k"), sender=me
    )
    await caller.publish_message(wrappers_pb2.Int64Value(value=2), TopicId("news", "k"))
    assert await arrivals.wait_for(1) == ["2"]


async def test_removing_a_subscription_stops_routing_there(pair: Pair) -> None:
    callee, caller, arrivals = pair
    subscription = TypePrefixSubscription("tmp.", Collector.AGENT_TYPE)
    await callee.add_subscription(subscription)
    while not caller.view.agent_types("tmp.x"):
        await caller.view.wait_changed(5.0)
    await callee.remove_subscription(subscription.id)
    while caller.view.agent_types("tmp.x"):
        await caller.view.wait_changed(5.0)
    await caller.publish_message(
        wrappers_pb2.Int64Value(value=9), TopicId("tmp.x", "k")
    )
    await caller.publish_message(wrappers_pb2.Int64Value(value=1), TopicId("news", "k"))
    assert await arrivals.wait_for(1) == ["1"]


async def test_rpc_failures_end_at_once_or_at_the_deadline(pair: Pair) -> None:
    callee, caller, _ = pair
    await callee.register_agent_class(Sleeper)
    await caller.wait_for_agent_types(Sleeper.AGENT_TYPE)
    started = time.monotonic()
    with pytest.raises(UndeliverableError, match="no worker serves"):
        await caller.send_message(wrappers_pb2.StringValue(), AgentId("nobody", "k"))
    assert time.monotonic() - started < 1
    with pytest.raises(RemoteError, match="boom"):
        await caller.send_message(
            wrappers_pb2.StringValue(value="boom"), AgentId(Collector.AGENT_TYPE, "k")
        )
    started = time.monotonic()
    with pytest.raises(RpcTimeoutError):
        await caller.send_message(
            empty_pb2.Empty(),
            AgentId(Sleeper.AGENT_TYPE, "k"),
            timeout=0.3,
        )
    assert time.monotonic() - started < 3
    sleeper = await callee.get_agent(AgentId(Sleeper.AGENT_TYPE, "k"))
    assert isinstance(sleeper, Sleeper)
    sleeper.release.set()  # (a clean stop would wait for it to finish)
    reply = await caller.send_message(
        wrappers_pb2.StringValue(value="fine"), AgentId(Collector.AGENT_TYPE, "k")
    )
    assert reply == wrappers_pb2.StringValue(value="echo:fine")


async def test_state_and_idleness_work_as_on_every_runtime(pair: Pair) -> None:
    callee, caller, arrivals = pair
    for n in (1, 2, 3):
        await caller.publish_message(
            wrappers_pb2.Int64Value(value=n), TopicId("news", "k")
        )
    await arrivals.wait_for(3)
    state = await callee.save_state()
    assert state == {"collector/k": {"total": 6}}
    await callee.load_state({"collector/k": {"total": 40}})
    assert await callee.agent_save_state(AgentId(Collector.AGENT_TYPE, "k")) == {
        "total": 40
    }
    assert await callee.checkpoint() == 1
    await asyncio.wait_for(caller.stop_when_idle(), 10)
    assert not caller.is_running
