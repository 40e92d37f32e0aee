"""How RPC failures travel in ``RpcResponse.error`` and become exceptions.

The human-readable text goes in ``error`` (all AutoGen peers read only that).
agentgen peers also put the failure's kind in the response metadata under
:data:`ERROR_KIND_KEY`, so the caller can raise a specific exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from ..errors import (
    AgentgenError,
    ConnectionLostError,
    MessageTooLargeError,
    RemoteError,
    RpcTimeoutError,
    SerializationError,
    UndeliverableError,
    UnexpectedReplyError,
    UnhandledMessageError,
)

__all__ = ["ERROR_KIND_KEY", "RpcErrorKind", "exception_for_error"]

ERROR_KIND_KEY: Final = "agentgen-error-kind"


class RpcErrorKind(StrEnum):
    """Why an RPC failed."""

    UNDELIVERABLE = "undeliverable"
    """No worker (or no local factory) serves the target agent type."""
    CONNECTION_LOST = "connection-lost"
    """The target's worker disconnected before replying."""
    TIMEOUT = "timeout"
    """No reply within the host's RPC timeout."""
    HANDLER_RAISED = "handler-raised"
    """The target's handler raised; ``error`` is ``"<Type>: <message>"``."""
    BAD_REPLY = "bad-reply"
    """The handler's reply breaks its contract (e.g. nothing for a non-Empty rpc)."""
    UNHANDLED = "unhandled"
    """The target agent has no handler for the request's message type."""
    TOO_LARGE = "too-large"
    """The reply exceeds the target's max_message_size."""
    UNENCODABLE = "unencodable"
    """The reply could not be encoded in the request's content type."""
    UNDECODABLE = "undecodable"
    """The request's payload could not be decoded by the target."""


_EXCEPTIONS: Final[Mapping[RpcErrorKind, type[AgentgenError]]] = {
    RpcErrorKind.UNDELIVERABLE: UndeliverableError,
    RpcErrorKind.CONNECTION_LOST: ConnectionLostError,
    RpcErrorKind.TIMEOUT: RpcTimeoutError,
    RpcErrorKind.BAD_REPLY: UnexpectedReplyError,
    RpcErrorKind.UNHANDLED: UnhandledMessageError,
    RpcErrorKind.TOO_LARGE: MessageTooLargeError,
    RpcErrorKind.UNENCODABLE: SerializationError,
    RpcErrorKind.UNDECODABLE: SerializationError,
}


def exception_for_error(error: str, metadata: Mapping[str, str]) -> AgentgenError:
    """The exception a caller raises for ``RpcResponse{error, metadata}``.

    Errors without a known kind (e.g. from AutoGen peers, whose handlers'
    exceptions arrive as bare text) become :class:`RemoteError`.
    """
    try:
        kind = RpcErrorKind(metadata.get(ERROR_KIND_KEY, ""))
    except ValueError:
        return RemoteError.parse(error)
    exception_class = _EXCEPTIONS.get(kind)
    if exception_class is None:
        return RemoteError.parse(error)
    return exception_class(error)
