"""Events held while the worker has no connection to the host.

Three kinds of entries wait here, oldest first, for the next connection:

* ``RESENT``: events written just before the connection was lost, which may
  not have reached the host (see :mod:`~agentgen.runtime.grpc.redelivery`);
* ``ACCEPTED``: events whose ``publish_message`` had returned but that the
  lost stream never wrote;
* ``WAITING``: publishes made while disconnected, whose callers wait.

Each entry is handed on after the next reconnect or removed after a deadline.
A caller still waiting on a removed entry gets
:class:`~agentgen.runtime.errors.NotDeliveredError`; the owner is told of
every removed entry (``on_removed``) so it can count and log it. Nothing is
dropped silently.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from enum import Enum

from ...errors import NotDeliveredError
from ...local.work import WorkCount

__all__ = ["BufferedPublish", "HeldKind", "PublishBuffer"]


class HeldKind(Enum):
    """Why an event frame waits for a connection."""

    RESENT = "resent"
    ACCEPTED = "accepted"
    WAITING = "waiting"


_BATCH = 0.05
"""Seconds a deadline may pass before its entry expires, so that entries due
at nearly the same time expire (and are reported) together."""


class BufferedPublish:
    """One event frame waiting for a connection."""

    # A plain class, not a dataclass: cheaper to create at import (worker start).
    __slots__ = ("expires", "frame", "kind", "waiter")

    def __init__(
        self,
        frame: bytes,
        kind: HeldKind,
        waiter: asyncio.Future[None] | None,
        expires: float = 0.0,
    ) -> None:
        self.frame = frame
        self.kind = kind
        self.waiter = waiter
        self.expires = expires


class PublishBuffer:
    """A bounded FIFO of event frames with per-entry deadlines.

    ``capacity`` bounds the entries publishers may wait on; entries the
    worker had already accepted are kept whatever the fill (their number is
    bounded by the stream's outbox and the resend window).
    ``on_removed(entries, reason)`` is called for entries that leave the
    buffer without being handed on (deadline passed, runtime stopped), in
    batches: one timer serves the whole buffer. Each entry counts as one
    unit of ``work`` while it is here.
    """

    def __init__(
        self,
        capacity: int,
        timeout: float,
        on_removed: Callable[[Sequence[BufferedPublish], str], None],
        work: WorkCount,
    ) -> None:
        if capacity < 0:
            raise ValueError(f"publish_buffer must not be negative, got {capacity}")
        if timeout <= 0:
            raise ValueError(f"publish_timeout must be positive, got {timeout}")
        self._capacity = capacity
        self._timeout = timeout
        self._on_removed = on_removed
        self._work = work
        self._entries: deque[BufferedPublish] = deque()
        self._waiting = 0
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def waiting(self) -> int:
        """Entries whose publishers wait (at most ``capacity``)."""
        return self._waiting

    def wait_for_connection(self, frame: bytes) -> BufferedPublish:
        """Buffer a new publish; its ``waiter`` resolves once it is handed on.

        Raises NotDeliveredError when ``capacity`` entries already wait.
        """
        if self._waiting >= self._capacity:
            raise NotDeliveredError(
                f"not connected to the host and {self._capacity} publishes are "
                "already waiting for the connection (publish_buffer)"
            )
        entry = BufferedPublish(
            frame, HeldKind.WAITING, asyncio.get_running_loop().create_future()
        )
        self._waiting += 1
        self._entries.append(entry)
        self._work.add()
        self._arm(entry)
        return entry

    def keep_first(self, held: Sequence[tuple[bytes, HeldKind]]) -> None:
        """Buffer events already accepted (or written), ahead of every entry.

        For the frames of a lost connection: publishes that found it closed
        may already wait here, and they are newer. Kept past capacity.
        """
        entries = [BufferedPublish(frame, kind, None) for frame, kind in held]
        self._entries.extendleft(reversed(entries))
        self._work.add(len(entries))
        for entry in entries:
            self._arm(entry)

    def _arm(self, entry: BufferedPublish) -> None:
        loop = asyncio.get_running_loop()
        entry.expires = loop.time() + self._timeout
        # An armed timer is due no later: every entry gets the same timeout.
        if self._timer is None:
            self._timer = loop.call_at(entry.expires + _BATCH, self._expire_due)

    def take_all(self) -> list[BufferedPublish]:
        """Remove every entry, oldest first, for sending (deadlines stop)."""
        entries = list(self._entries)
        self._entries.clear()
        self._waiting = 0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if entries:
            self._work.done(len(entries))
        return entries

    def fail_all(self, reason: str) -> None:
        """Remove every entry undelivered (e.g. the runtime stops)."""
        self._report(self.take_all(), reason)

    def _expire_due(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        due = [entry for entry in self._entries if entry.expires <= now]
        if due:
            self._entries = deque(e for e in self._entries if e.expires > now)
            self._waiting -= sum(e.kind is HeldKind.WAITING for e in due)
            self._work.done(len(due))
        if self._entries:
            first = min(entry.expires for entry in self._entries)
            self._timer = loop.call_at(first + _BATCH, self._expire_due)
        self._report(due, f"no connection to the host within {self._timeout:g} s")

    def _report(self, entries: list[BufferedPublish], reason: str) -> None:
        if not entries:
            return
        for entry in entries:
            if entry.waiter is not None and not entry.waiter.done():
                entry.waiter.set_exception(
                    NotDeliveredError(f"publish not delivered: {reason}")
                )
        self._on_removed(entries, reason)
