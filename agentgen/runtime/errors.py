"""Exceptions raised by agentgen runtimes."""

from __future__ import annotations

__all__ = [
    "AgentgenError",
    "ConnectionLostError",
    "MessageTooLargeError",
    "NoDefaultTopicError",
    "NotDeliveredError",
    "RemoteError",
    "RpcTimeoutError",
    "SerializationError",
    "UndeliverableError",
    "UnexpectedReplyError",
    "UnhandledMessageError",
]


class AgentgenError(Exception):
    """Base of every agentgen runtime error."""


class UndeliverableError(AgentgenError):
    """No agent type or agent can take the message (e.g. an unknown type)."""


class UnhandledMessageError(AgentgenError):
    """The recipient agent has no handler for the message's type."""


class RemoteError(AgentgenError):
    """The handler of an RPC raised; carries the remote error's type and text."""

    def __init__(self, remote_type: str, remote_message: str) -> None:
        super().__init__(
            f"{remote_type}: {remote_message}" if remote_type else remote_message
        )
        self.remote_type = remote_type
        self.remote_message = remote_message

    @classmethod
    def from_exception(cls, error: BaseException) -> RemoteError:
        """Describe ``error`` the way it travels between processes."""
        return cls(type(error).__name__, str(error))

    @classmethod
    def parse(cls, text: str) -> RemoteError:
        """Rebuild a RemoteError from the ``"Type: message"`` wire form."""
        head, sep, rest = text.partition(": ")
        if sep and head.isidentifier():
            return cls(head, rest)
        return cls("", text)


class RpcTimeoutError(AgentgenError, TimeoutError):
    """An RPC got no reply within its timeout."""


class UnexpectedReplyError(AgentgenError, TypeError):
    """An RPC reply was not of the type the contract declares."""


class NoDefaultTopicError(AgentgenError, ValueError):
    """``publish_message`` got no topic and the message type has no default."""


class MessageTooLargeError(AgentgenError, ValueError):
    """A message exceeds the configured maximum size."""


class NotDeliveredError(AgentgenError):
    """A message could not be delivered (e.g. the host was unreachable too long)."""


class SerializationError(AgentgenError, ValueError):
    """A message could not be encoded or decoded."""


class ConnectionLostError(NotDeliveredError):
    """The connection carrying an RPC ended before its reply arrived.

    Raised when the worker's own connection drops, or when the host reports
    that the target agent's worker disconnected mid-call. The request may or
    may not have been handled.
    """
