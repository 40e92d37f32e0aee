"""A mailbox keeps its agent for delivery; eviction and stop start afresh."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    Agent,
    AgentId,
    Handler,
    InProcessRuntime,
    MessageContext,
    TopicId,
)

TOPIC = TopicId("count")
COUNTER = AgentId("counter")


class Counter(Agent):
    """Counts the numbers it is sent; each instance has its own serial."""

    AGENT_TYPE: ClassVar[str] = "counter"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("count",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_number", wrappers_pb2.Int64Value, wrappers_pb2.Int64Value),
    )
    made = 0

    def __init__(self) -> None:
        Counter.made += 1
        self.serial = Counter.made
        self.seen: list[int] = []

    async def on_number(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> wrappers_pb2.Int64Value:
        self.seen.append(message.value)
        return wrappers_pb2.Int64Value(value=self.serial)


async def _serial_answering(runtime: InProcessRuntime, value: int) -> int:
    reply = await runtime.send_message(wrappers_pb2.Int64Value(value=value), COUNTER)
    assert isinstance(reply, wrappers_pb2.Int64Value)
    return reply.value


async def test_an_agent_made_before_its_first_message_is_the_one_delivered_to() -> None:
    Counter.made = 0
    async with InProcessRuntime() as runtime:
        await runtime.register_agent_class(Counter)
        made_early = await runtime.get_agent(COUNTER)
        await runtime.publish_message(wrappers_pb2.Int64Value(value=1), TOPIC)
        assert await _serial_answering(runtime, 2) == 1
        assert await _serial_answering(runtime, 3) == 1  # eager, after the first
        await runtime.stop_when_idle()
    assert isinstance(made_early, Counter)
    assert made_early.seen == [1, 2, 3] and Counter.made == 1


async def test_after_eviction_the_next_message_makes_a_new_agent() -> None:
    Counter.made = 0
    async with InProcessRuntime() as runtime:
        await runtime.register_agent_class(Counter)
        assert await _serial_answering(runtime, 1) == 1
        assert await _serial_answering(runtime, 2) == 1
        evicted = await runtime.local.evict(COUNTER)
        assert isinstance(evicted, Counter) and evicted.seen == [1, 2]

        assert await _serial_answering(runtime, 3) == 2
        await runtime.publish_message(wrappers_pb2.Int64Value(value=4), TOPIC)
        await runtime.stop_when_idle()
    assert evicted.seen == [1, 2]
    assert Counter.made == 2


async def test_a_restarted_runtime_delivers_to_new_agents() -> None:
    Counter.made = 0
    runtime = InProcessRuntime()
    await runtime.register_agent_class(Counter)
    for expected in (1, 2):
        await runtime.start()
        try:
            assert await asyncio.wait_for(_serial_answering(runtime, 1), 5) == expected
            assert await asyncio.wait_for(_serial_answering(runtime, 2), 5) == expected
        finally:
            await runtime.stop()
