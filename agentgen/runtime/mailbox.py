"""Per-agent mailboxes: one message at a time per agent, in arrival order."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from .context import MessageContext

__all__ = ["Envelope", "Mailbox"]


Envelope = tuple[Any, MessageContext, "asyncio.Future[Any] | None"]
"""A message on its way to one agent: ``(message, ctx, reply)``.

``reply`` is set for RPCs. A plain tuple: one is made per delivery, and a
named tuple costs several times more to build.
"""


class Mailbox:
    """A bounded queue drained by one task that hands envelopes to ``deliver``.

    ``put`` waits while the mailbox is full (back-pressure); ``put_nowait``
    never waits and is for the owner's own messages, which it could not
    drain while it waits.
    """

    __slots__ = ("_capacity", "_deliver", "_items", "_space", "_task", "_wakeup")

    def __init__(
        self,
        deliver: Callable[[Envelope], Awaitable[None]],
        capacity: int,
    ) -> None:
        self._deliver = deliver
        self._capacity = capacity
        self._items: deque[Envelope] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._space: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, envelope: Envelope) -> bool:
        """Queue ``envelope`` if the mailbox has room; ``False`` if it is full."""
        if len(self._items) >= self._capacity:
            return False
        self.put_nowait(envelope)
        return True

    def put_nowait(self, envelope: Envelope) -> None:
        """Queue ``envelope`` whatever the mailbox's fill."""
        self._items.append(envelope)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def put(self, envelope: Envelope) -> None:
        """Queue ``envelope``, waiting while the mailbox is full."""
        while len(self._items) >= self._capacity:
            if self._space is None or self._space.done():
                self._space = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._space)
        self.put_nowait(envelope)

    def drain(self) -> list[Envelope]:
        """Remove and return every queued envelope."""
        items = list(self._items)
        self._items.clear()
        return items

    async def close(self) -> None:
        """Stop the delivery task (the envelope being handled is cancelled)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        items = self._items
        loop = asyncio.get_running_loop()
        while True:
            while items:
                envelope = items.popleft()
                space = self._space
                if space is not None and not space.done():
                    space.set_result(None)
                await self._deliver(envelope)
            self._wakeup = loop.create_future()
            await self._wakeup
            self._wakeup = None
