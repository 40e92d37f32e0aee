"""Events in flight when a connection dies: sent again, and received once.

A frame the worker has written may still be in a socket buffer or in the
host's queue when the host dies (SIGKILL, crash, network loss); nothing in
the protocol acknowledges it. So the worker keeps the last events it wrote
(:class:`ResendWindow`) and sends them again, marked as resent
(:func:`~agentgen.runtime.grpc.wire.mark_resent`), before anything newer,
once it has reconnected. Receivers remember the ids of the last events they
got (:class:`RecentEventIds`) and drop a marked event whose id they have
seen. AutoGen receivers do not, so after a reconnection they may see an
event twice (at least once rather than at most once).
"""

from __future__ import annotations

from collections import deque

__all__ = ["RecentEventIds", "ResendWindow"]


class ResendWindow:
    """The last event frames written: at most ``frames`` of them and ``max_bytes``."""

    __slots__ = ("_bytes", "_frames", "_max_bytes", "_max_frames")

    def __init__(self, frames: int, max_bytes: int) -> None:
        if frames < 0 or max_bytes < 0:
            raise ValueError("the resend window cannot be negative")
        self._max_frames = frames
        self._max_bytes = max_bytes
        self._frames: deque[bytes] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._frames)

    def add(self, frame: bytes) -> None:
        """Remember a written frame, forgetting the oldest past the bounds."""
        frames = self._frames
        frames.append(frame)
        self._bytes += len(frame)
        while len(frames) > self._max_frames or self._bytes > self._max_bytes:
            self._bytes -= len(frames.popleft())

    def take(self) -> list[bytes]:
        """Every remembered frame, oldest first; the window is emptied."""
        frames = list(self._frames)
        self._frames.clear()
        self._bytes = 0
        return frames


class RecentEventIds:
    """The ids of the last ``size`` events received, to drop repeats."""

    __slots__ = ("_order", "_seen", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: set[str] = set()
        self._order: deque[str] = deque()

    def seen_before(self, event_id: str) -> bool:
        """Whether ``event_id`` was seen lately; remembers it if not.

        Empty ids (some foreign publishers) are never taken for repeats.
        """
        if not event_id or self._size <= 0:
            return False
        seen = self._seen
        if event_id in seen:
            return True
        seen.add(event_id)
        order = self._order
        order.append(event_id)
        if len(order) > self._size:
            seen.discard(order.popleft())
        return False
