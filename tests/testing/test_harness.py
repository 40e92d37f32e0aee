"""HandlerHarness and RecordingRuntime: one agent's handlers, no runtime."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf import wrappers_pb2 as w

from agentgen.runtime import (
    AgentId,
    MessageContext,
    NoDefaultTopicError,
    RemoteError,
    RpcTimeoutError,
    TopicId,
    TypeSubscription,
    UnexpectedReplyError,
    UnhandledMessageError,
)
from agentgen.testing import HandlerHarness, RecordingRuntime, UnexpectedSendError

from .sample_agents import NUMBERS, Echo, Relay, Tally


def text(value: str) -> w.StringValue:
    return w.StringValue(value=value)


async def test_call_returns_the_reply_and_records_what_the_handler_sent() -> None:
    harness = HandlerHarness(Relay(), AgentId("Relay", "r1"))
    harness.respond(w.StringValue, text("echo"))
    caller = AgentId("Caller", "c")
    reply = await harness.call(text("hi"), sender=caller)
    assert reply == text("relayed:echo")
    assert harness.agent.id == AgentId("Relay", "r1")
    [sent] = harness.sent
    assert (sent.message, sent.recipient, sent.sender) == (
        text("hi"),
        AgentId("Echo", "r1"),
        AgentId("Relay", "r1"),
    )
    [published] = harness.published
    assert (published.message, published.topic_id, published.sender) == (
        text("relayed:echo"),
        TopicId("relayed", "r1"),
        AgentId("Relay", "r1"),
    )
    assert published.message_id


async def test_deliver_gives_the_handler_a_published_context() -> None:
    seen: list[MessageContext] = []

    class Watched(Tally):
        async def on_number(self, message: w.Int64Value, ctx: MessageContext) -> None:
            seen.append(ctx)
            await super().on_number(message, ctx)

    harness = HandlerHarness(Watched())
    assert harness.agent_id == AgentId("Tally", "default")
    await harness.deliver(w.Int64Value(value=3), NUMBERS, message_id="m-7")
    await harness.deliver(w.Int64Value(value=4), TopicId("numbers", "s"))
    assert harness.agent.total == 7
    assert [(c.topic_id, c.is_rpc, c.sender) for c in seen] == [
        (NUMBERS, False, None),
        (TopicId("numbers", "s"), False, None),
    ]
    assert [c.message_id for c in seen] == ["m-7", "test-1"]
    assert (harness.published, harness.sent) == ([], [])


async def test_deliver_without_a_topic_needs_a_default_topic() -> None:
    # The scaffold's tests deliver a message that has one.
    harness = HandlerHarness(Tally())
    with pytest.raises(NoDefaultTopicError, match="needs a topic_id"):
        await harness.deliver(w.Int64Value(value=1))


async def test_a_send_without_a_reply_fails_clearly() -> None:
    harness = HandlerHarness(Relay(), AgentId("Relay", "r1"))
    with pytest.raises(UnexpectedSendError) as raised:
        await harness.call(text("hi"))
    assert str(raised.value) == (
        "Relay/r1 sent google.protobuf.StringValue to Echo/r1, and the test set "
        "no reply for it: respond(StringValue, reply) or give a responder"
    )
    assert [s.message for s in harness.sent] == [text("hi")]
    assert harness.published == []


async def test_responders_answer_sends_sync_or_async_and_canned_replies_win() -> None:
    asked: list[tuple[str, AgentId]] = []

    async def responder(message: w.StringValue, recipient: AgentId) -> w.StringValue:
        asked.append((message.value, recipient))
        await asyncio.sleep(0)
        return text(message.value.upper())

    harness = HandlerHarness(Relay(), responder=responder)
    assert await harness.call(text("abc")) == text("relayed:ABC")
    harness.runtime.responder = lambda message, recipient: text("sync")
    assert await harness.call(text("abc")) == text("relayed:sync")
    harness.respond(w.StringValue, text("canned"))
    assert await harness.call(text("abc")) == text("relayed:canned")
    assert asked == [("abc", AgentId("Echo", "default"))]


async def test_an_exception_as_reply_is_raised_to_the_handler() -> None:
    harness = HandlerHarness(Relay())
    harness.respond(w.StringValue, RemoteError("ValueError", "no echo today"))
    with pytest.raises(RemoteError, match="no echo today"):
        await harness.call(text("hi"))
    harness.respond(w.StringValue, RpcTimeoutError("Echo/default took too long"))
    with pytest.raises(RpcTimeoutError, match="took too long"):
        await harness.call(text("hi"), timeout=5)


async def test_replies_and_message_types_are_checked_as_a_runtime_checks_them() -> None:
    class Wrong(Echo):
        async def on_text(
            self, message: w.StringValue, ctx: MessageContext
        ) -> w.StringValue:
            return w.Int64Value(value=1)  # type: ignore[return-value]

    with pytest.raises(UnexpectedReplyError, match="expected a reply of type"):
        await HandlerHarness(Wrong()).call(text("x"))
    with pytest.raises(UnhandledMessageError, match="has no handler"):
        await HandlerHarness(Echo()).call(w.BoolValue(value=True))
    with pytest.raises(ValueError, match="boom requested"):
        await HandlerHarness(Echo()).call(text("boom"))


async def test_a_handler_that_never_finishes_fails_after_the_timeout() -> None:
    Echo.gate = asyncio.Event()
    try:
        harness = HandlerHarness(Echo(), AgentId("Echo", "slow"))
        with pytest.raises(AssertionError) as raised:
            await harness.call(text("wait"), timeout=0.2)
    finally:
        Echo.gate = None
    assert str(raised.value) == (
        "Echo/slow did not finish handling google.protobuf.StringValue within 0.2 s"
    )


async def test_context_builds_what_a_runtime_would_hand_over() -> None:
    harness = HandlerHarness(Echo())
    ctx = harness.context(sender=AgentId("A"), is_rpc=True)
    assert (ctx.sender, ctx.topic_id, ctx.is_rpc, ctx.message_id) == (
        AgentId("A"),
        None,
        True,
        "test-1",
    )
    assert harness.context().message_id == "test-2"
    reply = await harness.agent.on_text(text("direct"), ctx)
    assert reply == text("direct")


async def test_recording_runtime_subscriptions_state_and_stop_requests() -> None:
    runtime = RecordingRuntime()
    tally = runtime.add_agent(Tally(), AgentId("Tally", "t"))
    assert tally.id == AgentId("Tally", "t") and tally.runtime is runtime
    tally.total = 5
    assert await runtime.save_state() == {"Tally/t": {"total": 5}}
    await runtime.load_state({"Tally/t": {"total": 9}})
    assert tally.total == 9
    with pytest.raises(LookupError, match="no agent Echo/default"):
        await runtime.agent_save_state(AgentId("Echo"))

    subscription = TypeSubscription("numbers", "Tally")
    await runtime.add_subscription(subscription)
    with pytest.raises(ValueError, match="already exists"):
        await runtime.add_subscription(subscription)
    assert runtime.subscriptions == (subscription,)
    await runtime.remove_subscription(subscription.id)
    assert len(runtime.subscriptions) == 0

    with pytest.raises(RuntimeError, match="cannot register agent type 'Echo'"):
        await runtime.register_agent_class(Echo)
    assert not runtime.stop_requested
    runtime.request_stop()
    assert runtime.stop_requested
