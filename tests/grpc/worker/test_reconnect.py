"""Workers survive a host restart: reconnect, re-register, deliver or refuse."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf import empty_pb2, wrappers_pb2

from agentgen.runtime import AgentId, NotDeliveredError, TopicId
from agentgen.runtime.grpc import ConnectionLostError, GrpcHost
from tests.support.agents import Arrivals, Collector, Sleeper
from tests.support.grpc_harness import bounded, running_worker, wait_until

pytestmark = pytest.mark.timeout(60)

FAST_RECONNECT = {"reconnect_max_delay": 0.2, "connect_timeout": 5.0}


async def test_host_restart_reconnects_and_delivers_what_was_published_meanwhile() -> (
    None
):
    arrivals = Arrivals()
    host = GrpcHost("127.0.0.1:0")
    await host.start()
    address = host.address
    async with (
        running_worker(address, **FAST_RECONNECT) as subscriber,
        running_worker(address, **FAST_RECONNECT) as publisher,
    ):
        await subscriber.register_agent_class(Collector, lambda: Collector(arrivals))
        await publisher.publish_message(
            wrappers_pb2.StringValue(value="before"), TopicId("news", "k")
        )
        assert await arrivals.wait_for(1) == ["before"]
        first_ids = {subscriber.client_id, publisher.client_id}

        await host.stop(grace=1)
        await wait_until(
            lambda: not subscriber.connected and not publisher.connected,
            "both workers to notice the host is gone",
        )
        while_down = asyncio.create_task(
            publisher.publish_message(
                wrappers_pb2.StringValue(value="while-down"), TopicId("news", "k")
            )
        )
        await wait_until(
            lambda: publisher.counters.publishes_buffered == 1, "the held publish"
        )
        assert not while_down.done()

        restarted = GrpcHost(address)
        await restarted.start()
        try:
            await bounded(while_down)
            assert await arrivals.wait_for(2) == ["before", "while-down"]
            await wait_until(
                lambda: subscriber.connected and publisher.connected, "reconnection"
            )
            assert {subscriber.client_id, publisher.client_id}.isdisjoint(first_ids)
            assert restarted.agent_types == {"collector": subscriber.client_id}
            reply = await publisher.send_message(
                wrappers_pb2.StringValue(value="rpc"), AgentId("collector", "k")
            )
            assert reply == wrappers_pb2.StringValue(value="echo:rpc")
            assert subscriber.counters.reconnects == 1
            assert publisher.counters.reconnects == 1
        finally:
            await restarted.stop(grace=1)


async def test_publishes_while_down_are_refused_past_the_deadline_or_bound() -> None:
    host = GrpcHost("127.0.0.1:0")
    await host.start()
    async with running_worker(
        host.address, publish_timeout=0.3, publish_buffer=1, **FAST_RECONNECT
    ) as worker:
        await host.stop(grace=1)
        await wait_until(lambda: not worker.connected, "the disconnect")
        held = asyncio.create_task(
            worker.publish_message(wrappers_pb2.StringValue(), TopicId("news"))
        )
        await wait_until(lambda: worker.counters.publishes_buffered == 1, "held")
        with pytest.raises(NotDeliveredError, match="publish_buffer"):
            await worker.publish_message(wrappers_pb2.StringValue(), TopicId("news"))
        with pytest.raises(NotDeliveredError, match=r"within 0\.3 s"):
            await bounded(held)
        assert worker.counters.publishes_refused == 2


async def test_pending_rpc_fails_when_the_host_goes_away() -> None:
    host = GrpcHost("127.0.0.1:0")
    await host.start()
    async with (
        running_worker(host.address, **FAST_RECONNECT) as callee,
        running_worker(host.address, **FAST_RECONNECT) as caller,
    ):
        await callee.register_agent_class(Sleeper)
        call = asyncio.create_task(
            caller.send_message(empty_pb2.Empty(), AgentId("sleeper", "k"))
        )
        await wait_until(lambda: callee.counters.rpc_served == 1, "the request")
        await host.stop(grace=1)
        with pytest.raises(ConnectionLostError):
            await bounded(call, 5)


async def test_without_reconnect_a_lost_host_is_reported() -> None:
    host = GrpcHost("127.0.0.1:0")
    await host.start()
    async with running_worker(host.address, reconnect=False) as worker:
        await host.stop(grace=1)
        await wait_until(lambda: not worker.connected, "the disconnect")
        with pytest.raises(NotDeliveredError, match="reconnect is off"):
            await worker.publish_message(wrappers_pb2.StringValue(), TopicId("news"))
        with pytest.raises(NotDeliveredError, match="not connected"):
            await worker.send_message(wrappers_pb2.StringValue(), AgentId("x", "k"))
