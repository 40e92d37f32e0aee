"""What a worker reads from a received ``RpcRequest``, whatever carried it.

The target, the payload decoded with the runtime's serializers, the sender,
and the content type the reply goes back in. A request that cannot reach a
handler raises :class:`RefusedRequest` with the error kind and reason its
error reply carries.
"""

from __future__ import annotations

from typing import Any, Final

from agentgen.protos import agent_worker_pb2 as pb

from ..errors import SerializationError
from ..ids import AgentId
from ..serialization import JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE, UnknownPayload
from .codec import PayloadCodec
from .rpc_error_kinds import RpcErrorKind

__all__ = [
    "CONTENT_TYPES",
    "RefusedRequest",
    "reply_content_type",
    "request_message",
    "request_sender",
    "request_target",
]

CONTENT_TYPES: Final = (JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE)
"""The payload encodings agentgen reads and writes."""


class RefusedRequest(Exception):
    """A request answered with an error reply instead of reaching a handler."""

    def __init__(self, kind: RpcErrorKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def request_target(request: pb.RpcRequest) -> AgentId:
    """The agent the request is for (:class:`RefusedRequest` if invalid)."""
    try:
        return AgentId(request.target.type, request.target.key)
    except ValueError as error:
        raise RefusedRequest(
            RpcErrorKind.UNDELIVERABLE, f"invalid target: {error}"
        ) from None


def request_message(
    codec: PayloadCodec, request: pb.RpcRequest, target: AgentId
) -> Any:
    """The request's payload, decoded (:class:`RefusedRequest` if it cannot be)."""
    payload = request.payload
    try:
        message = codec.decode(
            payload.data_type, payload.data_content_type, payload.data
        )
    except SerializationError as error:
        raise RefusedRequest(RpcErrorKind.UNDECODABLE, str(error)) from None
    if isinstance(message, UnknownPayload):
        raise RefusedRequest(
            RpcErrorKind.UNDECODABLE,
            f"the worker of {target} cannot decode {payload.data_type} "
            f"({payload.data_content_type})",
        )
    return message


def request_sender(request: pb.RpcRequest) -> AgentId | None:
    """The calling agent; ``None`` if absent or invalid (the handler is told only)."""
    if not request.HasField("source"):
        return None
    try:
        return AgentId(request.source.type, request.source.key)
    except ValueError:
        return None


def reply_content_type(request: pb.RpcRequest, default: str) -> str:
    """The encoding of the reply: the request's, or ``default`` if it is unknown."""
    content_type = request.payload.data_content_type
    return content_type if content_type in CONTENT_TYPES else default
