"""Agents for the runtime tests (gRPC, in-process), declared as generated code would."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from google.protobuf import empty_pb2, wrappers_pb2

from agentgen.runtime import Agent, AgentRuntime, Handler, MessageContext


@dataclass
class Arrivals:
    """What agents received, shared by every agent of a test; awaitable."""

    items: list[tuple[str, str, MessageContext]] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(
        self, agent_key: str, value: str, ctx: MessageContext, size: int = 0
    ) -> None:
        self.items.append((agent_key, value, ctx))
        self.sizes.append(size)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        """Wait until ``count`` messages arrived; return their values."""
        async with asyncio.timeout(timeout):
            while len(self.items) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.values()

    async def wait_for_value(self, value: str, timeout: float = 10.0) -> None:
        """Wait until a message with ``value`` arrived."""
        async with asyncio.timeout(timeout):
            while value not in self.values():
                self._changed.clear()
                await self._changed.wait()

    def values(self) -> list[str]:
        return [value for _, value, _ in self.items]


class Probe(Agent):
    """The handlers the runtime tests drive, on both runtimes.

    Subscribes to news, default and alerts.*; echoes strings (fails on
    ``boom``); sums numbers, behind ``gate`` when one is set; answers flags
    with the wrong type on purpose; saves and loads its total. Subclasses say
    where arrivals go (:meth:`record`) and how much of a text they keep
    (``SHOWN``: that many characters, ``None`` for all).
    """

    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("news", "default")
    PREFIX_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("alerts.",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
        Handler("on_number", wrappers_pb2.Int64Value, None),
        Handler("on_flag", wrappers_pb2.BoolValue, wrappers_pb2.StringValue),
    )
    SHOWN: ClassVar[int | None] = None

    def __init__(self) -> None:
        self.total = 0
        self.gate: asyncio.Event | None = None

    @abc.abstractmethod
    def record(self, value: str, ctx: MessageContext, size: int = 0) -> None:
        """Keep one arrival: its (shortened) value, context and full size."""

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        shown = message.value[: self.SHOWN]
        self.record(shown, ctx, len(message.value))
        if message.value == "boom":
            raise ValueError("boom requested")
        return wrappers_pb2.StringValue(value=f"echo:{shown}")

    async def on_number(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        if self.gate is not None:
            await self.gate.wait()
        self.total += message.value
        self.record(str(message.value), ctx)

    async def on_flag(
        self, message: wrappers_pb2.BoolValue, ctx: MessageContext
    ) -> Any:
        return None  # wrong on purpose: the contract says StringValue

    async def save_state(self) -> Mapping[str, Any]:
        return {"total": self.total}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.total = int(state["total"])


class Collector(Probe):
    """A Probe telling ``arrivals``; keeps 64 characters of a text; sizes replies."""

    AGENT_TYPE: ClassVar[str] = "collector"
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        *Probe.HANDLERS,
        Handler("on_size", wrappers_pb2.UInt64Value, wrappers_pb2.BytesValue),
    )
    SHOWN: ClassVar[int | None] = 64

    def __init__(self, arrivals: Arrivals) -> None:
        super().__init__()
        self.arrivals = arrivals

    def record(self, value: str, ctx: MessageContext, size: int = 0) -> None:
        self.arrivals.add(self.id.key, value, ctx, size)

    async def on_size(
        self, message: wrappers_pb2.UInt64Value, ctx: MessageContext
    ) -> wrappers_pb2.BytesValue:
        return wrappers_pb2.BytesValue(value=b"z" * message.value)


async def register_collector(runtime: AgentRuntime, arrivals: Arrivals) -> None:
    """Register :class:`Collector` on ``runtime``, its agents telling ``arrivals``."""
    await runtime.register_agent_class(Collector, lambda: Collector(arrivals))


class Sleeper(Agent):
    """Answers Empty requests only once released."""

    AGENT_TYPE: ClassVar[str] = "sleeper"
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_empty", empty_pb2.Empty, None),
    )

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def on_empty(self, message: empty_pb2.Empty, ctx: MessageContext) -> None:
        self.started.set()
        await self.release.wait()


class Unencodable:
    """A reply no serializer knows."""


class Careless(Agent):
    """Answers every message with something that cannot be encoded."""

    AGENT_TYPE: ClassVar[str] = "careless"

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        return Unencodable()
