"""Agents and bookkeeping shared by the in-process reliability tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from google.protobuf import wrappers_pb2

from agentgen.runtime import Agent, Handler, MessageContext

DEFAULT_WAIT = 20.0


@dataclass
class Tally:
    """Values received, per agent key, in arrival order; awaitable by condition."""

    received: dict[str, list[int]] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, key: str, value: int) -> None:
        self.received.setdefault(key, []).append(value)
        self._changed.set()

    def count(self, key: str | None = None) -> int:
        if key is not None:
            return len(self.received.get(key, ()))
        return sum(len(values) for values in self.received.values())

    async def wait_until(
        self, condition: Callable[[], bool], what: str, timeout: float = DEFAULT_WAIT
    ) -> None:
        """Wait until ``condition()`` holds (checked on arrivals) or fail."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what} "
                f"(received {self.count()})"
            ) from None


class Counter(Agent):
    """Records each Int64Value it gets into a shared :class:`Tally`.

    With a ``gate``, it waits for the gate before each message.
    """

    AGENT_TYPE: ClassVar[str] = "counter"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("load",)
    PREFIX_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("load.",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_value", wrappers_pb2.Int64Value, None),
    )

    def __init__(self, tally: Tally, gate: asyncio.Event | None = None) -> None:
        self.tally = tally
        self.gate = gate

    async def on_value(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        if self.gate is not None:
            await self.gate.wait()  # a slow agent: stuck until the test opens it
        self.tally.add(self.id.key, message.value)
