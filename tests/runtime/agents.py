"""Hand-written agents on well-known protobuf types, for runtime tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from google.protobuf import empty_pb2, wrappers_pb2

from agentgen.runtime import Agent, Handler, MessageContext


class Recorder(Agent):
    """Records what it receives; echoes strings; fails on request."""

    AGENT_TYPE: ClassVar[str] = "recorder"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("news", "default")
    PREFIX_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("alerts.",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
        Handler("on_number", wrappers_pb2.Int64Value, None),
        Handler("on_flag", wrappers_pb2.BoolValue, wrappers_pb2.StringValue),
    )

    def __init__(self) -> None:
        self.received: list[tuple[str, MessageContext]] = []
        self.total = 0
        self.gate: asyncio.Event | None = None

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        self.received.append((message.value, ctx))
        if message.value == "boom":
            raise ValueError("boom requested")
        return wrappers_pb2.StringValue(value=f"echo:{message.value}")

    async def on_number(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.total += message.value
        self.received.append((str(message.value), ctx))

    async def on_flag(
        self, message: wrappers_pb2.BoolValue, ctx: MessageContext
    ) -> Any:
        return None  # wrong on purpose: the contract says StringValue

    async def save_state(self) -> Mapping[str, Any]:
        return {"total": self.total}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.total = int(state["total"])


class Sleeper(Agent):
    """Never answers until released."""

    AGENT_TYPE: ClassVar[str] = "sleeper"
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_empty", empty_pb2.Empty, None),
    )

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def on_empty(self, message: empty_pb2.Empty, ctx: MessageContext) -> None:
        await self.release.wait()
