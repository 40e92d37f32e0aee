"""Deliveries: what agents handled, filtered, awaited, and reported on timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from google.protobuf import wrappers_pb2 as w

from agentgen.runtime import AgentId, InProcessRuntime, TopicId
from agentgen.testing import Deliveries

from .sample_agents import NUMBERS, Echo, Tally

SHORT = 0.3


@pytest.fixture
async def runtime(
    agentgen_runtime: InProcessRuntime,
) -> AsyncIterator[InProcessRuntime]:
    """The plugin's runtime with Echo and Tally registered."""
    await agentgen_runtime.register_agent_class(Echo)
    await agentgen_runtime.register_agent_class(Tally)
    yield agentgen_runtime


def text(value: str) -> w.StringValue:
    return w.StringValue(value=value)


async def test_wait_for_returns_the_first_matches_in_order_with_their_context(
    runtime: InProcessRuntime,
) -> None:
    deliveries = Deliveries(runtime)
    for value in ("a", "b", "c"):
        await runtime.publish_message(text(value), TopicId("words", "k1"))
    await runtime.publish_message(w.Int64Value(value=5), NUMBERS)
    first_two = await deliveries.wait_for(2, message_type=w.StringValue)
    assert [d.message.value for d in first_two] == ["a", "b"]
    assert {d.agent_id for d in first_two} == {AgentId("Echo", "k1")}
    assert first_two[0].ctx.topic_id == TopicId("words", "k1")
    assert not first_two[0].ctx.is_rpc
    assert first_two[0].failure is None
    number = await deliveries.wait_for(agent_type="Tally")
    assert [d.message.value for d in number] == [5]


async def test_filters_combine(runtime: InProcessRuntime) -> None:
    deliveries = Deliveries(runtime)
    for key, value in (("k1", "a"), ("k2", "b"), ("k1", "cc")):
        await runtime.publish_message(text(value), TopicId("words", key))
    await runtime.send_message(text("rpc"), AgentId("Echo", "k2"))
    long_ones = await deliveries.wait_for(where=lambda m: len(m.value) > 1)
    assert [d.message.value for d in long_ones] == ["cc"]
    to_k2 = await deliveries.wait_for(2, agent=AgentId("Echo", "k2"))
    assert [(d.message.value, d.ctx.is_rpc) for d in to_k2] == [
        ("b", False),
        ("rpc", True),
    ]
    assert deliveries.matching(agent_type="Tally") == []
    assert len(deliveries.matching(message_type=w.StringValue)) == 4
    assert len(deliveries.handled) == 4


async def test_wait_for_wakes_when_a_later_delivery_matches(
    runtime: InProcessRuntime,
) -> None:
    deliveries = Deliveries(runtime)
    waiting = asyncio.create_task(deliveries.wait_for(2, message_type=w.Int64Value))
    await runtime.publish_message(w.Int64Value(value=1), NUMBERS)
    await asyncio.wait([waiting], timeout=SHORT)
    assert not waiting.done(), "one of two numbers must not end the wait"
    await runtime.publish_message(w.Int64Value(value=2), NUMBERS)
    numbers = await asyncio.wait_for(waiting, timeout=10)
    assert [d.message.value for d in numbers] == [1, 2]


async def test_a_timed_out_wait_lists_what_was_handled(
    runtime: InProcessRuntime,
) -> None:
    Echo.gate = asyncio.Event()
    try:
        deliveries = Deliveries(runtime)
        await runtime.publish_message(text("a"), TopicId("words", "k1"))
        await runtime.publish_message(text("b"), TopicId("words", "k1"))
        await runtime.publish_message(w.Int64Value(value=1), NUMBERS)
        await runtime.publish_message(text("wait"), TopicId("words", "k2"))
        with pytest.raises(AssertionError) as raised:
            await deliveries.wait_for(
                2, message_type=w.Int64Value, agent_type="Tally", timeout=SHORT
            )
    finally:
        Echo.gate.set()
        Echo.gate = None
    assert str(raised.value).splitlines() == [
        "timed out after 0.3 s waiting for 2 deliveries of "
        "google.protobuf.Int64Value to agent type 'Tally'; 1 matched",
        "handled (3):",
        "  Echo/k1: google.protobuf.StringValue x2",
        "  Tally/default: google.protobuf.Int64Value x1",
        "being handled (1):",
        "  Echo/k2: google.protobuf.StringValue x1",
    ]


async def test_a_failed_matching_delivery_fails_the_wait_at_once(
    runtime: InProcessRuntime,
) -> None:
    deliveries = Deliveries(runtime)
    await runtime.publish_message(text("boom"), TopicId("words", "k1"))
    with pytest.raises(AssertionError, match="Echo/k1 failed to handle") as raised:
        await deliveries.wait_for(2, message_type=w.StringValue, timeout=10)
    assert isinstance(raised.value.__cause__, ValueError)
    assert "ValueError: boom requested" in str(raised.value)
    await runtime.publish_message(text("fine"), TopicId("words", "k1"))
    both = await deliveries.wait_for(2, allow_failures=True)
    assert [type(d.failure) for d in both] == [ValueError, type(None)]


async def test_failures_are_counted_in_the_timeout_report(
    runtime: InProcessRuntime,
) -> None:
    deliveries = Deliveries(runtime)
    await runtime.publish_message(text("boom"), TopicId("words", "k1"))
    with pytest.raises(AssertionError) as raised:
        await deliveries.wait_for(agent_type="Tally", timeout=SHORT)
    assert "  Echo/k1: google.protobuf.StringValue x1 (1 failed: ValueError)" in (
        str(raised.value).splitlines()
    )


async def test_a_recorder_watching_nothing_says_so(runtime: InProcessRuntime) -> None:
    with Deliveries(runtime) as deliveries:
        await runtime.publish_message(w.Int64Value(value=1), NUMBERS)
        await deliveries.wait_for(agent_type="Tally")
    await runtime.publish_message(w.Int64Value(value=2), NUMBERS)
    await runtime.send_message(text("after"), AgentId("Echo"))
    assert [d.message.value for d in deliveries.handled] == [1]
    with pytest.raises(RuntimeError, match="watches no runtime"):
        await deliveries.wait_for(2)
    deliveries.clear()
    assert deliveries.handled == []


async def test_the_fixture_watches_the_plugin_runtime(
    runtime: InProcessRuntime, agentgen_deliveries: Deliveries
) -> None:
    await runtime.send_message(text("hi"), AgentId("Echo", "k3"))
    handled = await agentgen_deliveries.wait_for(agent=AgentId("Echo", "k3"))
    assert handled[0].ctx.is_rpc
