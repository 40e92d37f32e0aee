"""Workers through a GrpcHost: publish routing, RPC in both encodings, ownership."""

from __future__ import annotations

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    AgentId,
    TopicId,
)
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime, HostRefusedError
from tests.support.agents import Arrivals, Sleeper, register_collector
from tests.support.grpc_harness import bounded, running_worker

pytestmark = pytest.mark.timeout(60)


async def test_publish_reaches_type_prefix_default_and_direct_subscribers(
    host: GrpcHost,
) -> None:
    arrivals = Arrivals()
    async with (
        running_worker(host.address) as subscriber,
        running_worker(host.address) as publisher,
    ):
        await register_collector(subscriber, arrivals)
        sender = AgentId("somebody", "s1")
        publish = publisher.publish_message
        await publish(
            wrappers_pb2.StringValue(value="a"),
            TopicId("news", "k1"),
            sender=sender,
            message_id="message-a",
        )
        await publish(wrappers_pb2.StringValue(value="b"), TopicId("alerts.fire", "k2"))
        await publish(wrappers_pb2.StringValue(value="c"), TopicId("default", "k1"))
        await publish(wrappers_pb2.StringValue(value="x"), TopicId("elsewhere", "k1"))
        await publish(wrappers_pb2.StringValue(value="d"), TopicId("collector:x", "k3"))
        values = await arrivals.wait_for(4)
        assert sorted(values) == ["a", "b", "c", "d"]
        by_value = {value: (key, ctx) for key, value, ctx in arrivals.items}
        key, ctx = by_value["a"]
        assert key == "k1"
        assert ctx.sender == sender
        assert ctx.message_id == "message-a"
        assert ctx.topic_id == TopicId("news", "k1")
        assert not ctx.is_rpc
        assert by_value["b"][1].sender is None
        assert (by_value["b"][0], by_value["d"][0]) == ("k2", "k3")
        await publisher.stop_when_idle()
        await subscriber.stop_when_idle()
    assert "x" not in arrivals.values()


async def test_an_agent_does_not_receive_its_own_publish(host: GrpcHost) -> None:
    arrivals = Arrivals()
    async with running_worker(host.address) as worker:
        await register_collector(worker, arrivals)
        me = AgentId("collector", "k1")
        await worker.publish_message(
            wrappers_pb2.StringValue(value="mine"), TopicId("news", "k1"), sender=me
        )
        await worker.publish_message(
            wrappers_pb2.StringValue(value="theirs"), TopicId("news", "k1")
        )
        assert await arrivals.wait_for(1) == ["theirs"]
        await worker.stop_when_idle()
    assert arrivals.values() == ["theirs"]


@pytest.mark.parametrize("content_type", [JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE])
async def test_rpc_across_workers_in_both_encodings(
    host: GrpcHost, content_type: str
) -> None:
    arrivals = Arrivals()
    async with (
        running_worker(host.address) as callee,
        running_worker(host.address, rpc_content_type=content_type) as caller,
    ):
        await register_collector(callee, arrivals)
        sender = AgentId("asker", "a1")
        reply = await caller.send_message(
            wrappers_pb2.StringValue(value="hi"),
            AgentId("collector", "k9"),
            sender=sender,
        )
        assert reply == wrappers_pb2.StringValue(value="echo:hi")
        empty_reply = await caller.send_message(
            wrappers_pb2.Int64Value(value=5), AgentId("collector", "k9")
        )
        assert empty_reply is None
        key, value, ctx = arrivals.items[0]
        assert (key, value, ctx.sender, ctx.is_rpc) == ("k9", "hi", sender, True)
        assert ctx.topic_id is None


async def test_concurrent_rpcs_from_two_workers_get_their_own_replies(
    host: GrpcHost,
) -> None:
    arrivals = Arrivals()
    async with (
        running_worker(host.address) as callee,
        running_worker(host.address) as caller1,
        running_worker(host.address) as caller2,
    ):
        await register_collector(callee, arrivals)

        async def ask(caller: GrpcWorkerRuntime, text: str) -> str:
            reply = await caller.send_message(
                wrappers_pb2.StringValue(value=text), AgentId("collector", text)
            )
            assert isinstance(reply, wrappers_pb2.StringValue)
            return reply.value

        import asyncio

        texts = [f"{name}-{n}" for name in ("one", "two") for n in range(20)]
        callers = [caller1 if text.startswith("one") else caller2 for text in texts]
        replies = await bounded(
            asyncio.gather(*(ask(c, t) for c, t in zip(callers, texts, strict=True)))
        )
    assert replies == [f"echo:{text}" for text in texts]


async def test_a_type_owned_by_another_worker_is_refused_and_not_kept(
    host: GrpcHost,
) -> None:
    async with (
        running_worker(host.address) as owner,
        running_worker(host.address) as latecomer,
    ):
        await owner.register_factory("sleeper", Sleeper)
        with pytest.raises(HostRefusedError, match="sleeper"):
            await latecomer.register_factory("sleeper", Sleeper)
        assert latecomer.agent_types == ()
        assert host.agent_types["sleeper"] == owner.client_id
