"""Waiting for the reply of an RPC to a local agent, with its deadline."""

from __future__ import annotations

import asyncio
from typing import Any

from ..deadlines import Deadlines
from ..errors import RemoteError, RpcTimeoutError
from ..ids import AgentId

__all__ = ["await_reply", "reply_outcome"]


async def await_reply(
    deadlines: Deadlines,
    reply: asyncio.Future[Any],
    recipient: AgentId,
    limit: float,
) -> Any:
    """The reply, :class:`RpcTimeoutError` after ``limit`` seconds.

    A handler's exception is raised as :class:`RemoteError`.
    """
    # Not asyncio.wait_for, which costs an extra future and event-loop turn
    # per call, nor a call_later handle each: see deadlines.py.
    expiry = _ReplyExpiry(reply, recipient, limit)
    deadlines.add(reply, limit, expiry)
    try:
        return await reply
    except Exception as error:
        if error is expiry.error:
            raise
        return reply_outcome(reply)
    finally:
        deadlines.release()


def reply_outcome(reply: asyncio.Future[Any]) -> Any:
    """A finished RPC's result; a handler's exception as :class:`RemoteError`."""
    try:
        return reply.result()
    except RemoteError:
        raise
    except Exception as error:
        raise RemoteError.from_exception(error) from error


class _ReplyExpiry:
    """Fails an RPC's reply with :class:`RpcTimeoutError` (and keeps the error).

    The caller compares the error it gets with :attr:`error`, so that a
    handler's own ``RpcTimeoutError`` (from a nested call) stays a
    :class:`RemoteError`.
    """

    __slots__ = ("error", "limit", "recipient", "reply")

    def __init__(
        self, reply: asyncio.Future[Any], recipient: AgentId, limit: float
    ) -> None:
        self.reply = reply
        self.recipient = recipient
        self.limit = limit
        self.error: RpcTimeoutError | None = None

    def __call__(self) -> None:
        if not self.reply.done():
            self.error = RpcTimeoutError(
                f"no reply from {self.recipient} within {self.limit:g} s"
            )
            self.reply.set_exception(self.error)
