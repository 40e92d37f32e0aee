"""Per-agent mailboxes: one message at a time per agent, in arrival order.

Every mailbox of a runtime counts its queued envelopes in the runtime's
:class:`Backlog`, so that intake from outside the process (the gRPC worker's
stream) can pause on the total without waiting on any one mailbox; and each
envelope, from queued until its delivery ended, as one unit of the runtime's
:class:`~agentgen.runtime.local.work.WorkCount`.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any

from ..context import MessageContext
from ..errors import NotDeliveredError
from ..ids import AgentId
from ..telemetry.logs import CURRENT_MAILBOX
from .work import WorkCount

if TYPE_CHECKING:
    from ..agent import Agent

__all__ = ["Backlog", "Envelope", "Mailbox", "resume"]


Envelope = tuple[Any, MessageContext, "asyncio.Future[Any] | None"]
"""A message on its way to one agent: ``(message, ctx, reply)``.

``reply`` is set for RPCs. A plain tuple: one is made per delivery, and a
named tuple costs several times more to build.
"""


class Backlog:
    """How many envelopes wait in all mailboxes of one runtime, against a limit.

    :meth:`room` lets a producer wait while ``count`` is at ``limit`` or more;
    it resumes once the backlog has fallen to ``resume_at`` (a tenth below
    the limit), so that a producer at the limit does not wake for every
    envelope handled.
    """

    __slots__ = ("count", "limit", "resume_at", "waiter")

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the backlog limit must be at least 1, got {limit}")
        self.count = 0
        self.limit = limit
        self.resume_at = limit - max(1, limit // 10)
        self.waiter: asyncio.Future[None] | None = None
        """What :meth:`room` waits on, while a producer waits."""

    @property
    def full(self) -> bool:
        """Whether a producer should wait (:meth:`room`)."""
        return self.count >= self.limit

    async def room(self) -> None:
        """Wait until the backlog has fallen to ``resume_at``."""
        while self.count > self.resume_at:
            if self.waiter is None or self.waiter.done():
                self.waiter = asyncio.get_running_loop().create_future()
            await asyncio.shield(self.waiter)

    def taken(self, count: int = 1) -> None:
        """``count`` envelopes left their mailboxes (handled or dropped)."""
        self.count -= count
        waiter = self.waiter
        if waiter is not None and self.count <= self.resume_at and not waiter.done():
            waiter.set_result(None)


class Mailbox:
    """A bounded queue drained by one task: ``deliver(mailbox, envelope)`` each.

    ``put`` waits while the mailbox is full (back-pressure for publishers in
    this process); ``put_nowait`` never waits: for the owner's own messages
    and for messages from the network, bounded by the :class:`Backlog`. While
    the mailbox is :attr:`ready`, a runtime may run a delivery's first step
    itself (holding :attr:`reserved`, as :attr:`task`, in :attr:`context`)
    and give the rest to the task with :meth:`hand_off`, which finishes it
    before anything queued since. :attr:`delivering` is the envelope being
    delivered (what log records of the task name, see ``telemetry.logs``).
    """

    __slots__ = (
        "_backlog",
        "_capacity",
        "_closed",
        "_deliver",
        "_handoff",
        "_items",
        "_space",
        "_task",
        "_wakeup",
        "_work",
        "agent",
        "agent_id",
        "context",
        "delivering",
        "reserved",
    )

    def __init__(
        self,
        deliver: Callable[[Mailbox, Envelope], Awaitable[object]],
        capacity: int,
        backlog: Backlog,
        work: WorkCount,
        agent_id: AgentId,
    ) -> None:
        self._deliver = deliver
        self._capacity = capacity
        self._backlog = backlog
        self._work = work
        self._items: deque[Envelope] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._space: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._handoff: _Handoff | None = None
        self.reserved = False
        """Set by a runtime while it runs a delivery's first step itself."""
        self.agent_id = agent_id
        """The agent whose messages this mailbox holds."""
        self.agent: Agent | None = None
        """That agent, once a delivery made or found it (set by ``deliver``).

        Read instead of the agent table, a dict lookup by ``AgentId`` (whose
        hash is a Python call) per delivery. The runtime closes a mailbox
        before its agent leaves the table (eviction, stop).
        """
        self.delivering: Envelope | None = None
        """The envelope being delivered, if any."""
        self.context = contextvars.copy_context()
        """The context the mailbox's task runs every delivery in."""
        self.context.run(CURRENT_MAILBOX.set, self)

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, envelope: Envelope, room_only: bool = True) -> bool:
        """Queue ``envelope``; ``False`` (not queued) if full and ``room_only``.

        One method for both (no call from one to the other): it runs for
        every message.
        """
        items = self._items
        if room_only and len(items) >= self._capacity:
            return False
        items.append(envelope)
        self._backlog.count += 1
        work = self._work
        work.count += 1  # WorkCount.add(), inlined
        if work.count == 1:
            work.busy()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), context=self.context
            )
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)
        return True

    def put_nowait(self, envelope: Envelope) -> None:
        """Queue ``envelope`` whatever the mailbox's fill."""
        self.offer(envelope, False)

    async def put(self, envelope: Envelope) -> None:
        """Queue ``envelope``, waiting while the mailbox is full.

        Raises :class:`~agentgen.runtime.errors.NotDeliveredError` if the
        mailbox is closed (the runtime stopped) before there was room.
        """
        while len(self._items) >= self._capacity and not self._closed:
            if self._space is None or self._space.done():
                self._space = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._space)
        if self._closed:
            raise NotDeliveredError("not delivered: the runtime stopped")
        self.put_nowait(envelope)

    @property
    def ready(self) -> bool:
        """Whether the task waits for work: nothing queued, nothing being handled."""
        wakeup = self._wakeup
        return wakeup is not None and not self.reserved and not wakeup.done()

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task that delivers this mailbox's envelopes (once one was queued)."""
        return self._task

    def hand_off(self, delivery: Coroutine[Any, Any, None], awaited: Any) -> None:
        """Give the task a delivery started elsewhere, suspended on ``awaited``.

        Only while :attr:`ready` (before :attr:`reserved` was set): the task
        resumes ``delivery`` before any envelope queued since. It counts as
        one unit of work until it ends.
        """
        self._work.add()
        self._handoff = (delivery, awaited)
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def drain(self) -> list[Envelope]:
        """Remove and return every queued envelope."""
        items = list(self._items)
        self._items.clear()
        self._backlog.taken(len(items))
        if items:
            self._work.done(len(items))
        return items

    async def close(self) -> None:
        """Stop the delivery task (the envelope being handled is cancelled).

        Publishers waiting for room are woken and refused.
        """
        self._closed = True
        space = self._space
        if space is not None and not space.done():
            space.set_result(None)
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        items = self._items
        backlog = self._backlog
        work = self._work
        loop = asyncio.get_running_loop()
        while True:
            if self._handoff is not None:
                await self._resume_handoff(None)
            while items:
                envelope = items.popleft()
                backlog.count -= 1  # Backlog.taken(), inlined
                if backlog.count <= backlog.resume_at and backlog.waiter is not None:
                    backlog.taken(0)
                space = self._space
                if space is not None and not space.done():
                    space.set_result(None)
                self.delivering = envelope
                try:
                    await self._deliver(self, envelope)
                finally:
                    self.delivering = None
                    work.count -= 1  # WorkCount.done(), inlined
                    if work.count == 0:
                        work.idle()
            self._wakeup = loop.create_future()
            try:
                await self._wakeup
            except asyncio.CancelledError as cancelled:
                # While waiting, only a handler's first step run by the runtime
                # (cancelling what it sees as its own task) or close() cancels.
                self._wakeup = None
                if self._handoff is not None:
                    await self._resume_handoff(cancelled)
                elif self._closed:
                    raise
                else:
                    _uncancel(self._task)
            self._wakeup = None

    async def _resume_handoff(self, error: BaseException | None) -> None:
        assert self._handoff is not None
        delivery, awaited = self._handoff
        self._handoff = None
        try:
            await resume(delivery, awaited, error)
        finally:
            self.delivering = None
            self._work.done()


_Handoff = tuple[Coroutine[Any, Any, None], Any]


def _uncancel(task: asyncio.Task[None] | None) -> None:
    while task is not None and task.cancelling():
        task.uncancel()


@types.coroutine
def resume(
    call: Coroutine[Any, Any, Any], awaited: Any, error: BaseException | None = None
) -> Generator[Any, Any, Any]:
    """``await call`` for a coroutine already started, suspended on ``awaited``.

    What ``yield from`` does, from the middle: the task waits for what the
    coroutine awaits, what the task sends or throws goes to the coroutine,
    and its return value is returned. With ``error``, the coroutine gets it
    at once instead of waiting.
    """
    while True:
        try:
            if error is not None:
                thrown, error = error, None
                awaited = call.throw(thrown)
                continue
            try:
                sent = yield awaited
            except GeneratorExit:
                call.close()
                raise
            except BaseException as caught:  # the task's, for the coroutine
                error = caught
                continue
            awaited = call.send(sent)
        except StopIteration as stop:
            return stop.value
