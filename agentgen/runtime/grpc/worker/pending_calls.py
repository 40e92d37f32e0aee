"""The caller's side of RPCs: requests awaiting replies, and what replies mean."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from google.protobuf import empty_pb2

from agentgen.protos import agent_worker_pb2 as pb

from ...errors import RpcTimeoutError, SerializationError
from ...ids import AgentId
from ...serialization import JSON_CONTENT_TYPE, UnknownPayload
from ..protocol.codec import PayloadCodec
from ..protocol.rpc_error_kinds import exception_for_error

__all__ = ["PendingCall", "PendingCalls", "reply_value"]


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


def reply_value(
    response: pb.RpcResponse, codec: PayloadCodec, recipient: AgentId
) -> Any:
    """The reply an ``RpcResponse`` carries, or the exception it reports.

    ``google.protobuf.Empty`` and a missing payload mean ``None`` (an Empty
    handler's reply), as on the in-process runtime.
    """
    if response.error:
        raise exception_for_error(response.error, response.metadata)
    if not response.HasField("payload"):
        return None
    payload = response.payload
    reply = codec.decode(
        payload.data_type,
        payload.data_content_type or JSON_CONTENT_TYPE,
        payload.data,
    )
    if isinstance(reply, UnknownPayload):
        raise SerializationError(
            f"the reply of {recipient} is a {reply.type_name} "
            f"({reply.content_type}), which no serializer here decodes"
        )
    return None if isinstance(reply, empty_pb2.Empty) else reply
