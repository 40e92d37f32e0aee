"""RPCs to an idle agent start in the caller's task: same semantics as queued.

``InProcessRuntime.send_message`` runs the handler of an idle agent (its
mailbox empty, its task waiting) in the caller's task up to the handler's
first await, as the agent's own task, then hands the rest to that task.
These tests pin what must not change: the handler's task and context, one
message at a time, ordering, errors, cancellation, reentrancy and fairness.
The first message to an agent makes its mailbox and task (the queued path),
so each test warms the agent up with one call first.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    Agent,
    AgentgenError,
    AgentId,
    Handler,
    InProcessRuntime,
    MessageContext,
    RemoteError,
    TopicId,
    UndeliverableError,
)
from agentgen.runtime.inprocess import YIELD_EVERY
from agentgen.runtime.local import EAGER_DEPTH_LIMIT

WAIT_LIMIT = 5.0
Text = wrappers_pb2.StringValue
Number = wrappers_pb2.Int64Value

seen_var: contextvars.ContextVar[str] = contextvars.ContextVar("seen_var")


class Probe(Agent):
    """Answers texts; records the task and context each handler ran in.

    Text commands: ``"hold"`` waits for :attr:`gate`; ``"timeout"`` waits
    for it under ``asyncio.timeout``; ``"self-cancel"`` cancels its own task;
    ``"boom"`` raises; ``"wrong-type"`` replies with the wrong type;
    ``"call:<type>/<key>:<text>"`` calls an agent and returns its reply (or
    the name of the error);
    ``"set-var"`` sets :data:`seen_var` before awaiting and reads it after.
    """

    AGENT_TYPE: ClassVar[str] = "probe"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("probe-news",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", Text, Text),
        Handler("on_number", Number, None),
    )

    def __init__(self) -> None:
        self.log: list[str] = []
        self.tasks: list[asyncio.Task[Any] | None] = []
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    async def on_text(self, message: Text, ctx: MessageContext) -> Text:
        value = message.value
        self.tasks.append(asyncio.current_task())
        self.log.append(f"start {value}")
        self.started.set()
        if value == "hold":
            await self.gate.wait()
        elif value == "timeout":
            async with asyncio.timeout(0.01):
                await self.gate.wait()
        elif value == "self-cancel":
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)
        elif value.startswith("call:"):
            _, target, text = value.split(":", 2)
            agent_type, key = target.split("/")
            try:
                reply = await self.send_message(
                    Text(value=text), AgentId(agent_type, key), timeout=0.2
                )
                answer = reply.value
            except AgentgenError as error:
                answer = type(error).__name__
            value = f"{value} -> {answer}"
        elif value == "boom":
            raise ValueError("boom requested")
        elif value == "wrong-type":
            return Number(value=1)  # type: ignore[return-value]  # on purpose
        elif value == "set-var":
            token = seen_var.set("inside")
            await asyncio.sleep(0)
            value = seen_var.get()
            seen_var.reset(token)  # fails if resumed in another context
        self.log.append(f"end {message.value}")
        return Text(value=value)

    async def on_number(self, message: Number, ctx: MessageContext) -> None:
        self.log.append(f"number {message.value}")


class Chain(Agent):
    """Agent ``chain/<n>`` calls ``chain/<n+1>`` until ``n`` reaches the text."""

    AGENT_TYPE: ClassVar[str] = "chain"
    HANDLERS: ClassVar[tuple[Handler, ...]] = (Handler("on_text", Text, Text),)

    async def on_text(self, message: Text, ctx: MessageContext) -> Text:
        depth = int(self.id.key)
        if depth >= int(message.value):
            return Text(value=str(depth))
        reply = await self.send_message(message, AgentId("chain", str(depth + 1)))
        assert isinstance(reply, Text)
        return reply


class PlainMethod(Agent):
    """A handler that is a plain method returning an awaitable."""

    AGENT_TYPE: ClassVar[str] = "plain"
    HANDLERS: ClassVar[tuple[Handler, ...]] = (Handler("on_text", Text, Text),)

    def on_text(self, message: Text, ctx: MessageContext) -> Awaitable[Text]:
        future: asyncio.Future[Text] = asyncio.get_running_loop().create_future()
        future.set_result(Text(value=f"plain:{message.value}"))
        return future


@pytest.fixture
async def runtime() -> AsyncIterator[InProcessRuntime]:
    rt = InProcessRuntime(rpc_timeout=WAIT_LIMIT)
    await rt.start()
    for cls in (Probe, Chain, PlainMethod):
        await rt.register_agent_class(cls)
    yield rt
    await rt.stop()


async def warm_probe(runtime: InProcessRuntime, key: str = "p") -> Probe:
    """The probe ``key`` after one queued call: its next calls start eagerly."""
    reply = await call(runtime, "warm-up", key)
    assert reply == "warm-up"
    agent = await runtime.get_agent(AgentId("probe", key))
    assert isinstance(agent, Probe)
    agent.log.clear()
    return agent


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the event loop until ``condition()`` holds (bound it by a timeout)."""
    while not condition():
        await asyncio.sleep(0)


async def call(runtime: InProcessRuntime, text: str, key: str = "p") -> str:
    reply = await runtime.send_message(Text(value=text), AgentId("probe", key))
    assert isinstance(reply, Text)
    return reply.value


async def test_handler_runs_as_the_agents_task_not_the_callers(
    runtime: InProcessRuntime,
) -> None:
    probe = await warm_probe(runtime)
    assert await call(runtime, "eager") == "eager"
    agent_task = probe.tasks[0]  # the warm-up ran in the agent's task
    assert probe.tasks == [agent_task, agent_task]
    assert agent_task is not asyncio.current_task()


async def test_context_variables_stay_in_the_agents_context(
    runtime: InProcessRuntime,
) -> None:
    await warm_probe(runtime)
    seen_var.set("caller")
    # Set, awaited, read and reset across the hand-off to the agent's task.
    assert await call(runtime, "set-var") == "inside"
    assert seen_var.get() == "caller"


async def test_asyncio_timeout_in_a_handler_cancels_the_handler_only(
    runtime: InProcessRuntime,
) -> None:
    await warm_probe(runtime)
    with pytest.raises(RemoteError) as raised:
        await call(runtime, "timeout")
    assert raised.value.remote_type == "TimeoutError"
    # The caller was not cancelled, and the agent goes on.
    assert await call(runtime, "after") == "after"


async def test_handler_cancelling_its_own_task_fails_its_message_only(
    runtime: InProcessRuntime,
) -> None:
    await warm_probe(runtime)
    with pytest.raises(RemoteError) as raised:
        await call(runtime, "self-cancel")
    assert raised.value.remote_type == "CancelledError"
    assert await call(runtime, "after") == "after"


async def test_cancelled_caller_does_not_cancel_the_started_handler(
    runtime: InProcessRuntime,
) -> None:
    probe = await warm_probe(runtime)
    caller = asyncio.create_task(call(runtime, "hold"))
    await asyncio.wait_for(probe.started.wait(), WAIT_LIMIT)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    probe.gate.set()
    assert await asyncio.wait_for(call(runtime, "next"), WAIT_LIMIT) == "next"
    assert probe.log == ["start hold", "end hold", "start next", "end next"]


async def test_one_message_at_a_time_and_in_order_after_a_handler_awaits(
    runtime: InProcessRuntime,
) -> None:
    probe = await warm_probe(runtime)
    first = asyncio.create_task(call(runtime, "hold"))
    await asyncio.wait_for(probe.started.wait(), WAIT_LIMIT)
    # Sent while the first handler awaits: queued behind it, in this order.
    await runtime.publish_message(Number(value=3), TopicId("probe-news", "p"))
    second = asyncio.create_task(call(runtime, "second"))
    third = asyncio.create_task(call(runtime, "third"))
    await asyncio.wait_for(until(lambda: runtime.queued_messages == 3), WAIT_LIMIT)
    assert probe.log == ["start hold"]
    probe.gate.set()
    replies = await asyncio.wait_for(asyncio.gather(first, second, third), WAIT_LIMIT)
    assert list(replies) == ["hold", "second", "third"]
    assert probe.log == [
        "start hold",
        "end hold",
        "number 3",
        "start second",
        "end second",
        "start third",
        "end third",
    ]


async def test_errors_reach_the_caller_as_remote_errors(
    runtime: InProcessRuntime,
) -> None:
    probe = await warm_probe(runtime)
    with pytest.raises(RemoteError) as boom:
        await call(runtime, "boom")
    assert boom.value.remote_type == "ValueError"
    assert boom.value.remote_message == "boom requested"
    assert isinstance(boom.value.__cause__, ValueError)
    with pytest.raises(RemoteError) as wrong:
        await call(runtime, "wrong-type")
    assert wrong.value.remote_type == "UnexpectedReplyError"
    with pytest.raises(RemoteError) as unhandled:
        await runtime.send_message(wrappers_pb2.BoolValue(), AgentId("probe", "p"))
    assert unhandled.value.remote_type == "UnhandledMessageError"
    # Each failure was this message's only: the agent goes on.
    assert await call(runtime, "after") == "after"
    assert probe.log[-2:] == ["start after", "end after"]


async def test_an_agent_calling_another_from_its_handler(
    runtime: InProcessRuntime,
) -> None:
    await warm_probe(runtime, "a")
    await warm_probe(runtime, "b")
    assert await call(runtime, "call:probe/b:hi", "a") == "call:probe/b:hi -> hi"


async def test_an_agent_calling_itself_waits_for_itself_as_before(
    runtime: InProcessRuntime,
) -> None:
    probe = await warm_probe(runtime, "a")
    # Its own handler is running: the call is queued behind it, never run
    # inside it, and times out (the nested call's 0.2 s).
    reply = await call(runtime, "call:probe/a:again", "a")
    assert reply == "call:probe/a:again -> RpcTimeoutError"
    await runtime.stop_when_idle()
    assert probe.log == [
        "start call:probe/a:again",
        "end call:probe/a:again",
        "start again",
        "end again",
    ]


async def test_calls_nested_deeper_than_the_limit_are_queued(
    runtime: InProcessRuntime,
) -> None:
    depth = 2 * EAGER_DEPTH_LIMIT + 3
    for key in range(depth + 1):  # each agent's mailbox task exists
        reply = await runtime.send_message(Text(value="0"), AgentId("chain", str(key)))
        assert reply.value == str(key)
    reply = await runtime.send_message(Text(value=str(depth)), AgentId("chain", "0"))
    assert reply.value == str(depth)


async def test_a_plain_method_returning_an_awaitable_is_a_handler(
    runtime: InProcessRuntime,
) -> None:
    for text in ("queued", "eager"):
        reply = await runtime.send_message(Text(value=text), AgentId("plain"))
        assert reply.value == f"plain:{text}"


async def test_stopping_while_a_started_handler_awaits_fails_the_call(
    runtime: InProcessRuntime,
) -> None:
    probe = await warm_probe(runtime)
    caller = asyncio.create_task(call(runtime, "hold"))
    await asyncio.wait_for(probe.started.wait(), WAIT_LIMIT)
    await runtime.stop()
    with pytest.raises((RemoteError, UndeliverableError)):
        await asyncio.wait_for(caller, WAIT_LIMIT)
    assert probe.log == ["start hold"]


async def test_a_loop_of_calls_that_never_wait_lets_other_tasks_run(
    runtime: InProcessRuntime,
) -> None:
    await warm_probe(runtime)
    turns = 0
    stop = asyncio.Event()

    async def count_turns() -> None:
        nonlocal turns
        while not stop.is_set():
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    await asyncio.wait_for(until(lambda: turns > 0), WAIT_LIMIT)
    turns = 0
    for n in range(4 * YIELD_EVERY):
        assert await call(runtime, str(n)) == str(n)
    assert turns >= 3
    stop.set()
    await counter


async def test_publish_returns_before_the_handler_runs(
    runtime: InProcessRuntime,
) -> None:
    probe = await warm_probe(runtime)
    await runtime.publish_message(Number(value=7), TopicId("probe-news", "p"))
    assert probe.log == []
    await runtime.stop_when_idle()
    assert probe.log == ["number 7"]
