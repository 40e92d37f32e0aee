"""Events that matched no subscription, held briefly for subscribers to come.

After a host restart, workers reconnect in any order: a publisher may flush
what it held before the subscriber has re-subscribed. The host keeps such
events for a few seconds and delivers them when a matching subscription (or
its agent type's owner) arrives, as the .NET gateway's dead-letter queue does.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["HeldEvents"]


@dataclass(slots=True)
class _Held:
    topic_type: str
    frame: bytes
    expires: float


class HeldEvents:
    """A FIFO bounded by age (``seconds``) and total size (``max_bytes``).

    ``on_dropped(topic_type)`` is called for each event that leaves without
    being delivered.
    """

    def __init__(
        self, seconds: float, max_bytes: int, on_dropped: Callable[[str], None]
    ) -> None:
        self._seconds = seconds
        self._max_bytes = max_bytes
        self._on_dropped = on_dropped
        self._events: deque[_Held] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._events)

    def hold(self, topic_type: str, frame: bytes) -> bool:
        """Keep ``frame``; ``False`` (dropped) if holding is off or it is too big."""
        now = time.monotonic()
        self._expire(now)
        if self._seconds <= 0 or len(frame) > self._max_bytes:
            self._on_dropped(topic_type)
            return False
        while self._bytes + len(frame) > self._max_bytes:
            self._drop_oldest()
        self._events.append(_Held(topic_type, frame, now + self._seconds))
        self._bytes += len(frame)
        return True

    def release(self, routable: Callable[[str], bool]) -> list[bytes]:
        """Remove and return the held events whose topic type is now routable."""
        self._expire(time.monotonic())
        released: list[bytes] = []
        kept: deque[_Held] = deque()
        for held in self._events:
            if routable(held.topic_type):
                released.append(held.frame)
                self._bytes -= len(held.frame)
            else:
                kept.append(held)
        self._events = kept
        return released

    def _expire(self, now: float) -> None:
        while self._events and self._events[0].expires <= now:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        held = self._events.popleft()
        self._bytes -= len(held.frame)
        self._on_dropped(held.topic_type)
