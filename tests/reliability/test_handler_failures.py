"""Handlers that raise or are cancelled, and agents that cannot be made.

Each failure is logged with the agent id and the message id, the caller of an
RPC gets a specific error, and the agent goes on serving: in process and
across gRPC workers alike.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    Agent,
    AgentId,
    AgentRuntime,
    Handler,
    MessageContext,
    RemoteError,
    TopicId,
)
from tests.support.runtimes import RUNTIME_KINDS, runtime_pair, until_routed

pytestmark = pytest.mark.timeout(60)

WAIT = 20.0
TOPIC = "fragile-news"


@dataclass
class Seen:
    """Every context a Fragile agent was handed, and each agent made."""

    contexts: list[MessageContext] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, ctx: MessageContext) -> None:
        self.contexts.append(ctx)
        self.changed.set()

    async def wait_for(self, count: int) -> MessageContext:
        """Wait until ``count`` messages were handed over; return the last."""
        async with asyncio.timeout(WAIT):
            while len(self.contexts) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.contexts[count - 1]


class Fragile(Agent):
    """Answers ``ok:<text>``; raises, waits to be cancelled or cancels on request."""

    AGENT_TYPE: ClassVar[str] = "fragile"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = (TOPIC,)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
    )

    def __init__(self, seen: Seen) -> None:
        self.seen = seen
        seen.agents.append(self)

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        self.seen.add(ctx)
        if message.value == "raise":
            raise ValueError("broken on purpose")
        if message.value == "wait-for-cancel":
            never = asyncio.get_running_loop().create_future()
            await ctx.cancellation_token.link_future(never)
        if message.value == "cancel-self":
            raise asyncio.CancelledError
        if message.value == "cancel-own-task":
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)  # where the cancellation lands
        return wrappers_pb2.StringValue(value=f"ok:{message.value}")


class FirstTimeFails:
    """An agent factory whose first call raises (say, a database is down)."""

    def __init__(self, seen: Seen) -> None:
        self.seen = seen
        self.calls = 0

    def __call__(self) -> Fragile:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the database is down")
        return Fragile(self.seen)


@dataclass
class Setup:
    """Where the Fragile agents live (``callee``) and who calls them."""

    callee: AgentRuntime
    caller: AgentRuntime
    seen: Seen
    flaky: FirstTimeFails


@pytest.fixture(params=RUNTIME_KINDS)
async def setup(
    request: pytest.FixtureRequest, nats_namespace: str
) -> AsyncIterator[Setup]:
    nats_url = (
        request.getfixturevalue("nats_session_server").url
        if request.param == "nats"
        else None
    )
    async with runtime_pair(
        request.param, nats_url=nats_url, namespace=nats_namespace, rpc_timeout=WAIT
    ) as (callee, caller):
        seen = Seen()
        flaky = FirstTimeFails(seen)
        await callee.register_agent_class(Fragile, lambda: Fragile(seen))
        await callee.register_factory("flaky", flaky)  # no subscriptions
        await until_routed(caller, "fragile", "flaky")
        yield Setup(callee, caller, seen, flaky)


def logged(
    caplog: pytest.LogCaptureFixture, agent: str, message_id: str
) -> logging.LogRecord:
    """The one runtime record naming ``agent`` and ``message_id``."""
    records = [
        record
        for record in caplog.records
        if record.name == "agentgen.runtime"
        and agent in record.getMessage()
        and message_id in record.getMessage()
    ]
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    return records[0]


async def ask(setup: Setup, text: str, agent_type: str = "fragile") -> object:
    return await asyncio.wait_for(
        setup.caller.send_message(
            wrappers_pb2.StringValue(value=text), AgentId(agent_type, "k")
        ),
        WAIT,
    )


async def assert_still_serving(setup: Setup, agents: int = 1) -> None:
    assert await ask(setup, "ping") == wrappers_pb2.StringValue(value="ok:ping")
    assert len(setup.seen.agents) == agents  # the same agent, not a new one


async def test_a_raising_rpc_handler(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(RemoteError) as raised:
        await ask(setup, "raise")
    assert raised.value.remote_type == "ValueError"
    assert raised.value.remote_message == "broken on purpose"
    record = logged(caplog, "fragile/k", setup.seen.contexts[0].message_id)
    assert record.levelno == logging.WARNING
    assert record.exc_info is not None  # with the handler's traceback
    await assert_still_serving(setup)


async def test_a_raising_event_handler(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    await setup.caller.publish_message(
        wrappers_pb2.StringValue(value="raise"), TopicId(TOPIC, "k")
    )
    ctx = await setup.seen.wait_for(1)
    await setup.caller.publish_message(
        wrappers_pb2.StringValue(value="after"), TopicId(TOPIC, "k")
    )
    await setup.seen.wait_for(2)
    record = logged(caplog, "fragile/k", ctx.message_id)
    assert record.levelno == logging.ERROR
    assert TOPIC in record.getMessage()
    await assert_still_serving(setup)


async def test_a_handler_cancelled_through_its_token(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    call = asyncio.create_task(ask(setup, "wait-for-cancel"))
    ctx = await setup.seen.wait_for(1)
    assert not call.done()
    ctx.cancellation_token.cancel()
    with pytest.raises(RemoteError) as raised:
        await call
    assert raised.value.remote_type == "CancelledError"
    assert "fragile/k" in raised.value.remote_message
    record = logged(caplog, "fragile/k", ctx.message_id)
    assert "cancelled" in record.getMessage()
    await assert_still_serving(setup)


@pytest.mark.parametrize("how", ["cancel-self", "cancel-own-task"])
async def test_a_handler_that_raises_cancelled_error(
    setup: Setup, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    with pytest.raises(RemoteError) as raised:
        await ask(setup, how)
    assert raised.value.remote_type == "CancelledError"
    logged(caplog, "fragile/k", setup.seen.contexts[0].message_id)
    await assert_still_serving(setup)
    # Events too: the cancelled one is logged, the next one handled.
    await setup.caller.publish_message(
        wrappers_pb2.StringValue(value=how), TopicId(TOPIC, "k")
    )
    ctx = await setup.seen.wait_for(3)
    await setup.caller.publish_message(
        wrappers_pb2.StringValue(value="after"), TopicId(TOPIC, "k")
    )
    await setup.seen.wait_for(4)
    assert "cancelled" in logged(caplog, "fragile/k", ctx.message_id).getMessage()


async def test_an_agent_whose_factory_fails_once(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(RemoteError) as raised:
        await ask(setup, "first", agent_type="flaky")
    assert raised.value.remote_type == "RuntimeError"
    assert raised.value.remote_message == "the database is down"
    failures = [r for r in caplog.records if "could not be created" in r.getMessage()]
    assert len(failures) == 1
    assert "flaky/k" in failures[0].getMessage()
    reply = await ask(setup, "second", agent_type="flaky")
    assert reply == wrappers_pb2.StringValue(value="ok:second")
    assert setup.flaky.calls == 2
