"""Agents for the tests of agentgen.testing, declared as generated code would be.

Self-contained (protobuf's wrapper messages, no generated module), so that
the pytester tests copy this file beside the test files they run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from google.protobuf import wrappers_pb2 as w

from agentgen.runtime import Agent, AgentId, Handler, MessageContext, TopicId

WORDS = TopicId("words")
NUMBERS = TopicId("numbers")


class Echo(Agent):
    """Answers a text with the same text; ``boom`` raises; ``wait`` waits for
    the class's ``gate`` (a test opens it)."""

    AGENT_TYPE: ClassVar[str] = "Echo"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("words",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", w.StringValue, w.StringValue),
    )
    gate: ClassVar[asyncio.Event | None] = None

    async def on_text(
        self, message: w.StringValue, ctx: MessageContext
    ) -> w.StringValue:
        if message.value == "boom":
            raise ValueError("boom requested")
        if message.value == "wait" and self.gate is not None:
            await self.gate.wait()
        return w.StringValue(value=message.value)


class Tally(Agent):
    """Adds up the numbers published to ``numbers``; its state is the total."""

    AGENT_TYPE: ClassVar[str] = "Tally"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("numbers",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_number", w.Int64Value, None),
    )

    def __init__(self) -> None:
        self.total = 0

    async def on_number(self, message: w.Int64Value, ctx: MessageContext) -> None:
        self.total += message.value

    async def save_state(self) -> Mapping[str, Any]:
        return {"total": self.total}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.total = int(state["total"])


class Relay(Agent):
    """Asks ``Echo/<its key>`` to echo a text, publishes the echo to
    ``relayed`` and returns it; a number goes to ``numbers`` unchanged."""

    AGENT_TYPE: ClassVar[str] = "Relay"
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", w.StringValue, w.StringValue),
        Handler("on_number", w.Int64Value, None),
    )

    async def on_text(
        self, message: w.StringValue, ctx: MessageContext
    ) -> w.StringValue:
        echoed = await self.send_message(message, AgentId("Echo", self.id.key))
        assert isinstance(echoed, w.StringValue)
        relayed = w.StringValue(value=f"relayed:{echoed.value}")
        await self.publish_message(relayed, TopicId("relayed", self.id.key))
        return relayed

    async def on_number(self, message: w.Int64Value, ctx: MessageContext) -> None:
        await self.publish_message(message, NUMBERS)
