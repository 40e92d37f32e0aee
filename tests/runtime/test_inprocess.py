"""InProcessRuntime: routing, RPC, ordering, idleness, state, errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from google.protobuf import empty_pb2, wrappers_pb2

from agentgen.runtime import (
    AgentId,
    InProcessRuntime,
    NoDefaultTopicError,
    RemoteError,
    RpcTimeoutError,
    TopicId,
    TypeSubscription,
    UndeliverableError,
)
from agentgen.runtime.inprocess import YIELD_EVERY
from tests.support.agents import Sleeper

from .agents import Recorder


@pytest.fixture
async def runtime() -> AsyncIterator[InProcessRuntime]:
    rt = InProcessRuntime(rpc_timeout=5)
    await rt.start()
    await rt.register_agent_class(Recorder)
    yield rt
    await rt.stop()


async def recorder(runtime: InProcessRuntime, key: str) -> Recorder:
    agent = await runtime.get_agent(AgentId("recorder", key))
    assert isinstance(agent, Recorder)
    return agent


def texts(agent: Recorder) -> list[str]:
    return [value for value, _ in agent.received]


async def test_publish_reaches_type_prefix_default_and_direct_subscriptions(
    runtime: InProcessRuntime,
) -> None:
    k1, k2, k3 = [await recorder(runtime, key) for key in ("k1", "k2", "k3")]
    sender = AgentId("someone", "s1")
    publish = runtime.publish_message
    await publish(
        wrappers_pb2.StringValue(value="a"),
        TopicId("news", "k1"),
        sender=sender,
        message_id="m-1",
    )
    await publish(wrappers_pb2.StringValue(value="b"), TopicId("alerts.fire", "k2"))
    await publish(wrappers_pb2.StringValue(value="c"), TopicId("default", "k1"))
    await publish(wrappers_pb2.StringValue(value="no"), TopicId("other", "k1"))
    await publish(wrappers_pb2.StringValue(value="d"), TopicId("recorder:x", "k3"))
    await runtime.stop_when_idle()

    assert texts(k1) == ["a", "c"]
    assert texts(k2) == ["b"]
    assert texts(k3) == ["d"]
    ctx = k1.received[0][1]
    assert (ctx.sender, ctx.message_id, ctx.topic_id, ctx.is_rpc) == (
        sender,
        "m-1",
        TopicId("news", "k1"),
        False,
    )


async def test_publisher_does_not_receive_its_own_message(
    runtime: InProcessRuntime,
) -> None:
    agent = await recorder(runtime, "k1")
    await agent.publish_message(
        wrappers_pb2.StringValue(value="x"), TopicId("news", "k1")
    )
    await runtime.stop_when_idle()
    assert agent.received == []


async def test_rpc_returns_typed_reply_with_rpc_context(
    runtime: InProcessRuntime,
) -> None:
    reply = await runtime.send_message(
        wrappers_pb2.StringValue(value="hi"),
        AgentId("recorder", "r"),
        sender=AgentId("caller", "c"),
    )
    assert reply == wrappers_pb2.StringValue(value="echo:hi")
    agent = await recorder(runtime, "r")
    ctx = agent.received[0][1]
    assert ctx.is_rpc and ctx.topic_id is None
    assert ctx.sender == AgentId("caller", "c")


async def test_empty_handler_replies_none(runtime: InProcessRuntime) -> None:
    reply = await runtime.send_message(
        wrappers_pb2.Int64Value(value=3), AgentId("recorder", "r")
    )
    assert reply is None


async def test_handler_error_reaches_caller_with_type_and_message(
    runtime: InProcessRuntime,
) -> None:
    with pytest.raises(RemoteError) as raised:
        await runtime.send_message(
            wrappers_pb2.StringValue(value="boom"), AgentId("recorder", "r")
        )
    assert raised.value.remote_type == "ValueError"
    assert raised.value.remote_message == "boom requested"
    assert isinstance(raised.value.__cause__, ValueError)
    # the agent keeps serving
    reply = await runtime.send_message(
        wrappers_pb2.StringValue(value="ok"), AgentId("recorder", "r")
    )
    assert reply.value == "echo:ok"


async def test_wrong_reply_type_and_unhandled_type_are_errors(
    runtime: InProcessRuntime,
) -> None:
    with pytest.raises(RemoteError) as wrong:
        await runtime.send_message(
            wrappers_pb2.BoolValue(value=True), AgentId("recorder", "r")
        )
    assert wrong.value.remote_type == "UnexpectedReplyError"
    with pytest.raises(RemoteError) as unhandled:
        await runtime.send_message(empty_pb2.Empty(), AgentId("recorder", "r"))
    assert unhandled.value.remote_type == "UnhandledMessageError"
    assert "google.protobuf.Empty" in unhandled.value.remote_message


async def test_rpc_to_unknown_type_raises_at_once(runtime: InProcessRuntime) -> None:
    with pytest.raises(UndeliverableError, match="nobody"):
        await runtime.send_message(
            wrappers_pb2.StringValue(value="x"), AgentId("nobody", "k")
        )


async def test_rpc_timeout() -> None:
    async with InProcessRuntime() as runtime:
        await runtime.register_agent_class(Sleeper)
        with pytest.raises(RpcTimeoutError, match="sleeper/k"):
            await runtime.send_message(
                empty_pb2.Empty(), AgentId("sleeper", "k"), timeout=0.05
            )
        agent = await runtime.get_agent(AgentId("sleeper", "k"))
        assert isinstance(agent, Sleeper)
        agent.release.set()


async def test_one_message_at_a_time_per_agent_in_order_and_agents_concurrent(
    runtime: InProcessRuntime,
) -> None:
    blocked = await recorder(runtime, "blocked")
    free = await recorder(runtime, "free")
    blocked.gate = asyncio.Event()
    for n in range(1, 6):
        await runtime.publish_message(
            wrappers_pb2.Int64Value(value=n), TopicId("news", "blocked")
        )
    reply = await runtime.send_message(
        wrappers_pb2.StringValue(value="still"), AgentId("recorder", "free")
    )
    # the free agent answered while the blocked one had not handled anything
    assert reply.value == "echo:still"
    assert blocked.received == []
    blocked.gate.set()
    await runtime.stop_when_idle()
    assert texts(blocked) == ["1", "2", "3", "4", "5"]
    assert texts(free) == ["still"]


async def test_stop_when_idle_waits_for_queued_work(runtime: InProcessRuntime) -> None:
    agent = await recorder(runtime, "k")
    for n in range(100):
        await runtime.publish_message(
            wrappers_pb2.Int64Value(value=n), TopicId("news", "k")
        )
    await runtime.stop_when_idle()
    assert agent.total == sum(range(100))
    assert not runtime.is_running


async def test_backpressure_publisher_waits_when_mailbox_full() -> None:
    async with InProcessRuntime(mailbox_capacity=2) as runtime:
        await runtime.register_agent_class(Recorder)
        agent = await recorder(runtime, "k")
        agent.gate = asyncio.Event()
        topic = TopicId("news", "k")
        for n in range(3):  # one being handled, two queued
            await runtime.publish_message(wrappers_pb2.Int64Value(value=n), topic)
        blocked = asyncio.create_task(
            runtime.publish_message(wrappers_pb2.Int64Value(value=3), topic)
        )
        for _ in range(20):
            await asyncio.sleep(0)
        assert not blocked.done()
        agent.gate.set()
        await asyncio.wait_for(blocked, 5)
        await runtime.stop_when_idle()
        assert agent.total == 0 + 1 + 2 + 3


async def test_state_per_agent_and_whole_runtime(runtime: InProcessRuntime) -> None:
    await runtime.send_message(
        wrappers_pb2.Int64Value(value=7), AgentId("recorder", "a")
    )
    await runtime.send_message(
        wrappers_pb2.Int64Value(value=5), AgentId("recorder", "b")
    )
    assert await runtime.agent_save_state(AgentId("recorder", "a")) == {"total": 7}
    saved = await runtime.save_state()
    assert saved == {"recorder/a": {"total": 7}, "recorder/b": {"total": 5}}

    async with InProcessRuntime() as fresh:
        await fresh.register_agent_class(Recorder)
        await fresh.load_state(saved)
        assert await fresh.save_state() == saved
        await fresh.agent_load_state(AgentId("recorder", "a"), {"total": 1})
        assert (await fresh.agent_save_state(AgentId("recorder", "a")))["total"] == 1
        with pytest.raises(ValueError, match="ghost"):
            await fresh.load_state({"ghost/x": {}})


async def test_subscriptions_add_remove_and_duplicates(
    runtime: InProcessRuntime,
) -> None:
    agent = await recorder(runtime, "k")
    extra = TypeSubscription("extra", "recorder", id="sub-1")
    await runtime.add_subscription(extra)
    assert extra in runtime.subscriptions
    with pytest.raises(ValueError, match="already exists"):
        await runtime.add_subscription(TypeSubscription("extra", "recorder"))
    await runtime.publish_message(
        wrappers_pb2.StringValue(value="1"), TopicId("extra", "k")
    )
    await runtime.remove_subscription("sub-1")
    await runtime.publish_message(
        wrappers_pb2.StringValue(value="2"), TopicId("extra", "k")
    )
    with pytest.raises(LookupError):
        await runtime.remove_subscription("sub-1")
    await runtime.stop_when_idle()
    assert texts(agent) == ["1"]


async def test_publish_without_topic_needs_a_default(runtime: InProcessRuntime) -> None:
    with pytest.raises(NoDefaultTopicError, match=r"google\.protobuf\.StringValue"):
        await runtime.publish_message(wrappers_pb2.StringValue(value="x"))


async def test_registration_errors() -> None:
    async with InProcessRuntime() as runtime:
        await runtime.register_agent_class(Recorder)
        with pytest.raises(ValueError, match="already registered"):
            await runtime.register_agent_class(Recorder)
        with pytest.raises(ValueError, match="invalid agent type"):
            await runtime.register_factory("bad type!", Recorder)


async def test_not_started_runtime_says_so() -> None:
    runtime = InProcessRuntime()
    await runtime.register_agent_class(Recorder)
    with pytest.raises(RuntimeError, match="start"):
        await runtime.publish_message(
            wrappers_pb2.StringValue(value="x"), TopicId("news", "k")
        )


async def test_request_stop_ends_stop_when_signal(runtime: InProcessRuntime) -> None:
    waiter = asyncio.create_task(runtime.stop_when_signal())
    runtime.request_stop()
    await asyncio.wait_for(waiter, 5)
    assert not runtime.is_running


async def test_abstract_agent_class_is_refused_with_the_missing_handlers() -> None:
    import abc

    class Half(Recorder, abc.ABC):
        @abc.abstractmethod
        async def on_extra(self) -> None: ...

    async with InProcessRuntime() as runtime:
        with pytest.raises(TypeError, match="on_extra"):
            await runtime.register_agent_class(Half)  # type: ignore[type-abstract]


async def test_a_publishing_loop_lets_subscribers_handle_messages_as_it_goes(
    runtime: InProcessRuntime,
) -> None:
    agent = await recorder(runtime, "k")
    topic = TopicId("news", "k")
    count = 3 * YIELD_EVERY  # far below the mailbox capacity
    for n in range(count):
        await runtime.publish_message(wrappers_pb2.Int64Value(value=n), topic)
    # The publisher yielded to the event loop every YIELD_EVERY publishes:
    # the agent handled those messages already, the mailbox stays short.
    assert len(agent.received) >= count - YIELD_EVERY
    assert runtime.queued_messages <= YIELD_EVERY
    await runtime.stop_when_idle()
    assert agent.total == sum(range(count))
