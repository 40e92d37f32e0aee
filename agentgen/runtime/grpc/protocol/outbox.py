"""A bounded, closable queue of encoded frames waiting to be written to a stream."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

__all__ = ["Outbox"]

T = TypeVar("T")


class Outbox(Generic[T]):
    """Items (encoded frames) waiting to be written to one stream, in order.

    :meth:`put` waits while ``limit`` frames are queued (back-pressure);
    :meth:`put_urgent` never waits, for the few small frames produced from
    callbacks (error replies). After :meth:`close`, puts are refused and
    :meth:`get` returns ``None`` once the queue is drained (or at once when
    closed with ``discard=True``).
    """

    __slots__ = ("_closed", "_frames", "_limit", "_not_empty", "_not_full")

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError(f"outbox limit must be positive, got {limit}")
        self._limit = limit
        self._frames: deque[T] = deque()
        self._not_empty = asyncio.Event()
        self._not_full = asyncio.Event()
        self._not_full.set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def full(self) -> bool:
        """Whether :meth:`put` would wait."""
        return len(self._frames) >= self._limit and not self._closed

    async def put(self, frame: T) -> bool:
        """Queue ``frame``, waiting for room; ``False`` if the outbox is closed."""
        while len(self._frames) >= self._limit and not self._closed:
            self._not_full.clear()
            await self._not_full.wait()
        return self.put_urgent(frame)

    def put_urgent(self, frame: T) -> bool:
        """Queue ``frame`` without waiting; ``False`` if the outbox is closed."""
        if self._closed:
            return False
        self._frames.append(frame)
        self._not_empty.set()
        return True

    def peek(self) -> T | None:
        """The next frame without removing it, or ``None`` if none is queued."""
        return self._frames[0] if self._frames else None

    def get_nowait(self) -> T | None:
        """The next frame, or ``None`` if none is queued."""
        if not self._frames:
            return None
        frame = self._frames.popleft()
        if len(self._frames) < self._limit:
            self._not_full.set()
        return frame

    async def get(self) -> T | None:
        """The next frame, waiting for one; ``None`` once closed and drained."""
        while not self._frames:
            if self._closed:
                return None
            self._not_empty.clear()
            await self._not_empty.wait()
        return self.get_nowait()

    def drain(self) -> list[T]:
        """Close, and remove and return everything still queued."""
        self.close()
        items = list(self._frames)
        self._frames.clear()
        return items

    def close(self, *, discard: bool = False) -> int:
        """Refuse further frames; return how many queued frames were discarded."""
        self._closed = True
        discarded = 0
        if discard:
            discarded = len(self._frames)
            self._frames.clear()
        self._not_empty.set()
        self._not_full.set()
        return discarded
