"""The caller's side of RPCs: requests awaiting replies, and what replies mean."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from agentgen.protos import agent_worker_pb2 as pb

from ...errors import RpcTimeoutError
from ...ids import AgentId

__all__ = ["PendingCall", "PendingCalls"]


class PendingCall:
    """One request sent, its reply future and its recipient (for messages)."""

    # A plain class, not a dataclass: cheaper to create at import (worker start).
    __slots__ = ("recipient", "reply")

    def __init__(
        self, reply: asyncio.Future[pb.RpcResponse], recipient: AgentId
    ) -> None:
        self.reply = reply
        self.recipient = recipient


class PendingCalls:
    """Requests awaiting their ``RpcResponse``, by request id."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[str, PendingCall] = {}

    def __contains__(self, request_id: str) -> bool:
        return request_id in self._calls

    def expect(
        self, request_id: str, recipient: AgentId
    ) -> asyncio.Future[pb.RpcResponse]:
        """Register a request; the future gets its response."""
        reply: asyncio.Future[pb.RpcResponse] = (
            asyncio.get_running_loop().create_future()
        )
        self._calls[request_id] = PendingCall(reply, recipient)
        return reply

    def discard(self, request_id: str) -> None:
        """Forget a request (answered, timed out or failed)."""
        self._calls.pop(request_id, None)

    def resolve(self, response: pb.RpcResponse) -> bool:
        """Hand ``response`` to its request; ``False`` if none awaits it."""
        call = self._calls.get(response.request_id)
        if call is None or call.reply.done():
            return False
        call.reply.set_result(response)
        return True

    def expire(self, request_id: str, reason: str) -> None:
        """Fail a request with :class:`RpcTimeoutError` if it still waits."""
        call = self._calls.get(request_id)
        if call is not None and not call.reply.done():
            call.reply.set_exception(RpcTimeoutError(reason))

    def fail_all(self, error_for: Callable[[PendingCall], Exception]) -> None:
        """Fail every request still waiting (e.g. the connection was lost)."""
        for call in self._calls.values():
            if not call.reply.done():
                call.reply.set_exception(error_for(call))
