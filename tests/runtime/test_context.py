"""MessageContext: the cancellation token is made on first access."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    Agent,
    AgentId,
    CancellationToken,
    Handler,
    InProcessRuntime,
    MessageContext,
    TopicId,
    TypeSubscription,
)


def test_token_is_made_once_and_kept() -> None:
    ctx = MessageContext(AgentId("a"), TopicId("t"), False, "m1")
    token = ctx.cancellation_token
    assert isinstance(token, CancellationToken)
    assert ctx.cancellation_token is token
    token.cancel()
    assert ctx.cancellation_token.is_cancelled()


def test_token_given_or_set_is_the_one_returned() -> None:
    given = CancellationToken()
    ctx = MessageContext(None, None, True, "r1", cancellation_token=given)
    assert ctx.cancellation_token is given
    other = CancellationToken()
    ctx.cancellation_token = other
    assert ctx.cancellation_token is other


def test_fields_equality_and_repr() -> None:
    token = CancellationToken()
    ctx = MessageContext(AgentId("a", "k"), None, True, "r1", token)
    assert (ctx.sender, ctx.topic_id, ctx.is_rpc, ctx.message_id) == (
        AgentId("a", "k"),
        None,
        True,
        "r1",
    )
    assert ctx == MessageContext(AgentId("a", "k"), None, True, "r1", token)
    assert ctx != MessageContext(AgentId("a", "k"), None, True, "r2", token)
    assert ctx != MessageContext(AgentId("a", "k"), None, True, "r1")
    assert repr(ctx).startswith("MessageContext(sender=AgentId(type='a', key='k'), ")
    assert "message_id='r1'" in repr(ctx)


class _OwnDispatch(Agent):
    """An agent with its own on_message: the runtime must still call it."""

    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, None),
    )
    seen: ClassVar[list[str]] = []

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        self.seen.append(f"own:{message.value}")
        return await super().on_message(message, ctx)

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> None:
        self.seen.append(f"handler:{message.value}")


async def test_an_overridden_on_message_is_called() -> None:
    _OwnDispatch.seen.clear()
    async with InProcessRuntime() as runtime:
        await runtime.register_factory("own", _OwnDispatch)
        await runtime.add_subscription(TypeSubscription("texts", "own"))
        await runtime.publish_message(
            wrappers_pb2.StringValue(value="x"), TopicId("texts")
        )
        await asyncio.wait_for(runtime.stop_when_idle(), 5.0)
    assert _OwnDispatch.seen == ["own:x", "handler:x"]
