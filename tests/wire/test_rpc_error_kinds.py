"""RPC error kinds: an error reply's kind becomes the caller's exception."""

from __future__ import annotations

import pytest

from agentgen.runtime import (
    MessageTooLargeError,
    RemoteError,
    RpcTimeoutError,
    SerializationError,
    UndeliverableError,
    UnexpectedReplyError,
    UnhandledMessageError,
)
from agentgen.runtime.grpc import ConnectionLostError
from agentgen.runtime.wire.rpc_error_kinds import (
    ERROR_KIND_KEY,
    RpcErrorKind,
    exception_for_error,
)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (RpcErrorKind.UNDELIVERABLE, UndeliverableError),
        (RpcErrorKind.CONNECTION_LOST, ConnectionLostError),
        (RpcErrorKind.TIMEOUT, RpcTimeoutError),
        (RpcErrorKind.BAD_REPLY, UnexpectedReplyError),
        (RpcErrorKind.UNHANDLED, UnhandledMessageError),
        (RpcErrorKind.TOO_LARGE, MessageTooLargeError),
        (RpcErrorKind.UNENCODABLE, SerializationError),
        (RpcErrorKind.UNDECODABLE, SerializationError),
    ],
)
def test_error_kinds_become_specific_exceptions(
    kind: RpcErrorKind, expected: type[Exception]
) -> None:
    error = exception_for_error("why", {ERROR_KIND_KEY: kind.value})
    assert type(error) is expected
    assert str(error) == "why"


def test_errors_from_autogen_peers_become_remote_errors() -> None:
    plain = exception_for_error("boom! x", {})
    assert isinstance(plain, RemoteError)
    assert (plain.remote_type, plain.remote_message) == ("", "boom! x")
    typed = exception_for_error("ValueError: bad", {ERROR_KIND_KEY: "from-the-future"})
    assert isinstance(typed, RemoteError)
    assert (typed.remote_type, typed.remote_message) == ("ValueError", "bad")
