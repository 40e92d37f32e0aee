"""RPC timeouts for many calls with one event-loop timer.

A ``loop.call_later`` handle per call costs about 2 µs to make and cancel,
a fifth of an in-process RPC. Here a call costs a heap push: one timer per
runtime (or gRPC host) fires for the earliest deadline, and the entries of
calls answered in time are dropped lazily (when they come due, or in bulk
once they outnumber the calls still waiting).

A call is anything with ``done()``: a reply future, or the host's record of
a forwarded request.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["DEADLINE_SLACK", "Deadlines", "Settles"]

DEADLINE_SLACK = 0.005
"""Seconds a timeout may fire late, so that due deadlines are handled in batches."""
_COMPACT_FLOOR = 1024


class Settles(Protocol):
    """A call whose deadline is kept: finished once ``done()`` is true."""

    def done(self) -> bool:
        """Whether the call has ended (its deadline no longer matters)."""


_Entry = tuple[float, int, Settles, Callable[[], None]]


class Deadlines:
    """Calls ``expire`` for reply futures still pending at their deadline."""

    __slots__ = ("_entries", "_loop", "_order", "_timer", "_timer_when", "_waiting")

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._order = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = float("inf")
        self._waiting = 0

    def add(
        self,
        reply: asyncio.Future[Any],
        timeout: float,
        expire: Callable[[], None],
    ) -> None:
        """Call ``expire()`` if ``reply`` is still pending in ``timeout`` seconds.

        Every :meth:`add` must be matched by a :meth:`release` once the
        caller stops waiting.
        """
        loop = reply.get_loop()
        self.add_at(loop, loop.time() + timeout, reply, expire)

    def add_at(
        self,
        loop: asyncio.AbstractEventLoop,
        when: float,
        call: Settles,
        expire: Callable[[], None],
    ) -> None:
        """Call ``expire()`` at ``loop.time() == when`` unless ``call`` is done.

        Like :meth:`add`, for an absolute deadline on ``loop`` and any call
        with ``done()``; matched by a :meth:`release` as well.
        """
        if loop is not self._loop:
            self.clear()
            self._loop = loop
        heapq.heappush(self._entries, (when, next(self._order), call, expire))
        self._waiting += 1
        if when < self._timer_when:
            self._arm(when)

    def release(self) -> None:
        """One caller stopped waiting (answered, failed or timed out)."""
        self._waiting = max(self._waiting - 1, 0)
        entries = self._entries
        if len(entries) > _COMPACT_FLOOR and len(entries) > 2 * self._waiting:
            self._entries = [entry for entry in entries if not entry[2].done()]
            heapq.heapify(self._entries)

    def clear(self) -> None:
        """Forget every deadline (the runtime stopped, or the loop changed)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_when = float("inf")
        self._entries = []

    def __len__(self) -> int:
        """How many deadlines are kept (answered ones included until dropped)."""
        return len(self._entries)

    def _arm(self, when: float) -> None:
        assert self._loop is not None
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = when
        self._timer = self._loop.call_at(when, self._expire)

    def _expire(self) -> None:
        self._timer = None
        self._timer_when = float("inf")
        assert self._loop is not None
        now = self._loop.time()
        entries = self._entries
        while entries and entries[0][0] <= now:
            _, _, call, expire = heapq.heappop(entries)
            if not call.done():
                expire()
        if entries:
            self._arm(max(entries[0][0], now + DEADLINE_SLACK))
