"""Counting the work a runtime has not finished, for ``stop_when_idle``.

The count is kept by the containers work waits in, each in its own methods
that take an item in or let it go: agent mailboxes (a message from queued
until its handler finished), the gRPC worker's streams (a frame from queued
until written) and its publish buffer (an event held for a connection). No
caller counts by hand, so no path can forget to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["WorkCount"]


class WorkCount:
    """Units of unfinished work in one runtime; idle at zero.

    ``count`` is read by anyone and changed only through :meth:`add` and
    :meth:`done` by the containers that own the work (and, on hot paths,
    inline in the same way: ``count`` up, then :meth:`busy` at one).
    """

    __slots__ = ("_idle", "count")

    def __init__(self) -> None:
        self.count = 0
        self._idle: asyncio.Event | None = None

    def add(self, units: int = 1) -> None:
        """``units`` more units of work (queued or in progress)."""
        self.count += units
        if self.count == units and units:
            self.busy()

    def done(self, units: int = 1) -> None:
        """``units`` units of work finished (or were dropped)."""
        self.count -= units
        if self.count == 0:
            self.idle()

    def busy(self) -> None:
        """The count left zero: waiters of :meth:`wait_idle` keep waiting."""
        if self._idle is not None:
            self._idle.clear()

    def idle(self) -> None:
        """The count reached zero: wake the waiters of :meth:`wait_idle`."""
        if self._idle is not None:
            self._idle.set()

    @contextmanager
    def holding(self) -> Iterator[None]:
        """One unit of work for the duration of the block."""
        self.add()
        try:
            yield
        finally:
            self.done()

    async def wait_idle(self) -> None:
        """Return once the count is zero (checked again after every wake-up)."""
        if self._idle is None:
            self._idle = asyncio.Event()
        while self.count:
            self._idle.clear()
            await self._idle.wait()
