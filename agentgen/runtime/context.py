"""What a handler knows about the message it handles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
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


class MessageContext:
    """The context of one delivered message.

    ``topic_id`` is set for published messages and ``None`` for RPCs;
    ``message_id`` is the publish id or the RPC request id. The
    ``cancellation_token`` is made on first access: most handlers never
    look at it, and one context is built per delivery.

    ``trace_carrier`` is the W3C trace context (``traceparent``, and
    ``tracestate`` if any) the message travels in, ``None`` when tracing is
    off: the sending span's as it arrived, and, once the handler's span has
    started, that span's (an RPC's reply carries it back).
    """

    __slots__ = (
        "_token",
        "is_rpc",
        "message_id",
        "sender",
        "topic_id",
        "trace_carrier",
    )

    def __init__(
        self,
        sender: AgentId | None,
        topic_id: TopicId | None,
        is_rpc: bool,
        message_id: str,
        cancellation_token: CancellationToken | None = None,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> None:
        self.sender = sender
        self.topic_id = topic_id
        self.is_rpc = is_rpc
        self.message_id = message_id
        self._token = cancellation_token
        self.trace_carrier = trace_carrier

    @property
    def cancellation_token(self) -> CancellationToken:
        """Cancelled when the work this message asked for is no longer wanted."""
        token = self._token
        if token is None:
            token = self._token = CancellationToken()
        return token

    @cancellation_token.setter
    def cancellation_token(self, token: CancellationToken) -> None:
        self._token = token

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.sender,
            self.topic_id,
            self.is_rpc,
            self.message_id,
            self.cancellation_token,
            self.trace_carrier,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, MessageContext)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass was

    def __repr__(self) -> str:
        carrier = self.trace_carrier
        return (
            f"MessageContext(sender={self.sender!r}, topic_id={self.topic_id!r}, "
            f"is_rpc={self.is_rpc!r}, message_id={self.message_id!r}, "
            f"cancellation_token={self.cancellation_token!r}"
            + ("" if carrier is None else f", trace_carrier={dict(carrier)!r}")
            + ")"
        )
