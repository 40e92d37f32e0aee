"""RPC replies: the frame a server sends for any outcome, and what a caller reads."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from google.protobuf import empty_pb2

from agentgen.protos import agent_worker_pb2 as pb

from ..errors import (
    MessageTooLargeError,
    RemoteError,
    SerializationError,
    UndeliverableError,
    UnexpectedReplyError,
    UnhandledMessageError,
)
from ..ids import AgentId
from ..serialization import JSON_CONTENT_TYPE, UnknownPayload
from .codec import PayloadCodec
from .frames import error_response_frame, response_frame
from .rpc_error_kinds import RpcErrorKind, exception_for_error

__all__ = ["classify_failure", "reply_frame", "reply_value"]


def reply_frame(
    codec: PayloadCodec,
    request_id: str,
    content_type: str,
    outcome: asyncio.Future[Any],
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """``Message{response}`` for a finished handler: its reply or an error.

    The reply is encoded in ``content_type`` (the request's). A handler that
    raised, returned something its contract does not allow, or whose reply
    cannot be encoded or is too large, gets an ``RpcResponse.error`` instead.
    ``metadata`` (the handler span's trace context) goes with either.
    """
    if outcome.cancelled():
        return error_response_frame(
            request_id,
            RpcErrorKind.UNDELIVERABLE,
            "the handler was cancelled",
            metadata,
        )
    error = outcome.exception()
    if error is not None:
        kind, reason = classify_failure(error)
        return error_response_frame(request_id, kind, reason, metadata)
    try:
        type_name, data = codec.encode(outcome.result(), content_type)
    except MessageTooLargeError as too_large:
        return error_response_frame(
            request_id, RpcErrorKind.TOO_LARGE, str(too_large), metadata
        )
    except Exception as unencodable:
        return error_response_frame(
            request_id,
            RpcErrorKind.UNENCODABLE,
            f"the reply cannot be encoded as {content_type}: {unencodable}",
            metadata,
        )
    return response_frame(request_id, type_name, content_type, data, metadata)


def classify_failure(error: BaseException) -> tuple[RpcErrorKind, str]:
    """The error kind and text sent for a handler's exception."""
    if isinstance(error, UnexpectedReplyError):
        return RpcErrorKind.BAD_REPLY, str(error)
    if isinstance(error, UnhandledMessageError):
        return RpcErrorKind.UNHANDLED, str(error)
    if isinstance(error, UndeliverableError):
        return RpcErrorKind.UNDELIVERABLE, str(error)
    if isinstance(error, RemoteError):
        # Already "<Type>: <message>" (a nested call's failure, a cancellation):
        # the caller gets it as the in-process runtime would raise it.
        return RpcErrorKind.HANDLER_RAISED, str(error)
    return RpcErrorKind.HANDLER_RAISED, f"{type(error).__name__}: {error}"


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
