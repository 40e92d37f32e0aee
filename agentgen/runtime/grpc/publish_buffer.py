"""Publishes held while the worker has no connection to the host.

Each entry is delivered after the next reconnect or expires after a deadline;
a publisher still waiting on an expired entry gets
:class:`~agentgen.runtime.errors.NotDeliveredError`, and an expiry without a
waiter is logged. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import NotDeliveredError

__all__ = ["BufferedPublish", "PublishBuffer"]

logger = logging.getLogger("agentgen.runtime.grpc.worker")


@dataclass(slots=True)
class BufferedPublish:
    """One event frame waiting for a connection."""

    frame: bytes
    waiter: asyncio.Future[None] | None
    timer: asyncio.TimerHandle | None = None


class PublishBuffer:
    """A bounded FIFO of event frames with per-entry deadlines.

    ``on_removed(count)`` is called for entries that leave the buffer without
    being handed on (expired or failed), so the owner can account for them.
    """

    def __init__(
        self,
        capacity: int,
        timeout: float,
        on_removed: Callable[[int], None],
    ) -> None:
        if capacity < 0:
            raise ValueError(f"publish_buffer must not be negative, got {capacity}")
        if timeout <= 0:
            raise ValueError(f"publish_timeout must be positive, got {timeout}")
        self._capacity = capacity
        self._timeout = timeout
        self._on_removed = on_removed
        self._entries: deque[BufferedPublish] = deque()
        self.expired = 0

    def __len__(self) -> int:
        return len(self._entries)

    def hold(self, frame: bytes, *, force: bool = False) -> BufferedPublish:
        """Buffer ``frame`` for a waiting publisher; full -> NotDeliveredError.

        ``force`` buffers even past capacity, without a waiter: for frames
        that were already accepted (queued on a stream that then broke).
        """
        if not force and len(self._entries) >= self._capacity:
            raise NotDeliveredError(
                f"not connected to the host and {self._capacity} publishes are "
                "already waiting for the connection (publish_buffer)"
            )
        loop = asyncio.get_running_loop()
        entry = BufferedPublish(frame, None if force else loop.create_future())
        entry.timer = loop.call_later(self._timeout, self._expire, entry)
        self._entries.append(entry)
        return entry

    def take_all(self) -> list[BufferedPublish]:
        """Remove every entry, oldest first, for sending (deadlines stop)."""
        entries = list(self._entries)
        self._entries.clear()
        for entry in entries:
            if entry.timer is not None:
                entry.timer.cancel()
        return entries

    def fail_all(self, reason: str) -> None:
        """Refuse every entry (e.g. the runtime stops)."""
        entries = self.take_all()
        self._report(entries, reason)

    def _expire(self, entry: BufferedPublish) -> None:
        try:
            self._entries.remove(entry)
        except ValueError:
            return
        self._report([entry], f"no connection to the host within {self._timeout:g} s")

    def _report(self, entries: list[BufferedPublish], reason: str) -> None:
        if not entries:
            return
        self.expired += len(entries)
        orphans = 0
        for entry in entries:
            if entry.waiter is not None and not entry.waiter.done():
                entry.waiter.set_exception(
                    NotDeliveredError(f"publish not delivered: {reason}")
                )
            else:
                orphans += 1
        if orphans:
            logger.error(
                "%d published messages were not delivered: %s", orphans, reason
            )
        self._on_removed(len(entries))
