"""What a handler knows about the message it handles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ids import AgentId, TopicId

__all__ = ["CancellationToken", "MessageContext"]


class CancellationToken:
    """Signals that the work a message asked for is no longer wanted."""

    __slots__ = ("_callbacks", "_cancelled")

    def __init__(self) -> None:
        self._cancelled = False
        self._callbacks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        """Cancel: run every callback once."""
        if self._cancelled:
            return
        self._cancelled = True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    def add_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on cancellation (at once if already cancelled)."""
        if self._cancelled:
            callback()
        else:
            self._callbacks.append(callback)

    def link_future(self, future: asyncio.Future[Any]) -> asyncio.Future[Any]:
        """Cancel ``future`` when this token is cancelled."""

        def cancel_future() -> None:
            future.cancel()

        self.add_callback(cancel_future)
        return future


@dataclass(slots=True)
class MessageContext:
    """The context of one delivered message.

    ``topic_id`` is set for published messages and ``None`` for RPCs;
    ``message_id`` is the publish id or the RPC request id.
    """

    sender: AgentId | None
    topic_id: TopicId | None
    is_rpc: bool
    message_id: str
    cancellation_token: CancellationToken = field(default_factory=CancellationToken)
