"""An agent's mailbox outlives the moments it is empty: still one message at a time."""

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

WAIT_LIMIT = 5.0


class Holder(Agent):
    """Records start and end of each message; holds the first until released."""

    AGENT_TYPE: ClassVar[str] = "holder"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("hold",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_number", wrappers_pb2.Int64Value, None),
    )

    def __init__(self) -> None:
        self.log: list[str] = []
        self.first_started = asyncio.Event()
        self.release = asyncio.Event()
        self.finished = asyncio.Event()

    async def on_number(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        self.log.append(f"start {message.value}")
        if message.value == 1:
            self.first_started.set()
            await self.release.wait()
        self.log.append(f"end {message.value}")
        if len(self.log) == 4:
            self.finished.set()


async def test_a_message_sent_while_the_mailbox_is_empty_waits_for_the_handler() -> (
    None
):
    async with InProcessRuntime() as runtime:
        await runtime.register_agent_class(Holder)
        holder = await runtime.get_agent(AgentId("holder"))
        assert isinstance(holder, Holder)
        topic = TopicId("hold")

        await runtime.publish_message(wrappers_pb2.Int64Value(value=1), topic)
        await asyncio.wait_for(holder.first_started.wait(), WAIT_LIMIT)
        # The mailbox is empty now (message 1 is being handled), not gone.
        await runtime.publish_message(wrappers_pb2.Int64Value(value=2), topic)
        holder.release.set()
        await asyncio.wait_for(holder.finished.wait(), WAIT_LIMIT)

        assert holder.log == ["start 1", "end 1", "start 2", "end 2"]
