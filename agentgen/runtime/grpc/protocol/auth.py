"""The optional shared token: ``authorization: Bearer <token>`` on every call.

The host compares the header in constant time and refuses a call without the
right one with ``UNAUTHENTICATED``. The token is one secret shared by every
worker of a host: it keeps out whoever does not know it, it does not tell
workers apart (see SECURITY.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final

from ...errors import AgentgenError

__all__ = [
    "AUTHORIZATION_HEADER",
    "AUTH_TOKEN_VARIABLE",
    "AuthenticationError",
    "TokenCheck",
    "authorization_metadata",
    "check_token",
    "token_from_environment",
]

AUTHORIZATION_HEADER: Final = "authorization"
AUTH_TOKEN_VARIABLE: Final = "AGENTGEN_AUTH_TOKEN"
"""Environment variable a worker (and ``agentgen host``) reads the token from."""
_SCHEME: Final = "Bearer "


class AuthenticationError(AgentgenError, ConnectionError):
    """The host refused the worker's token (missing or wrong)."""


def check_token(token: str) -> str:
    """Return ``token`` if it can travel in a header; raise ValueError if not."""
    if not token:
        raise ValueError("the auth token is empty")
    if not token.isascii() or not token.isprintable() or token != token.strip():
        raise ValueError(
            "the auth token must be printable ASCII without leading or trailing "
            "spaces (it travels in the 'authorization' header)"
        )
    return token


def token_from_environment() -> str | None:
    """The token in ``AGENTGEN_AUTH_TOKEN``, or ``None`` when unset or empty."""
    return os.environ.get(AUTH_TOKEN_VARIABLE) or None


def authorization_metadata(token: str) -> tuple[str, str]:
    """The metadata entry a worker sends on every call to the host."""
    return (AUTHORIZATION_HEADER, _SCHEME + token)


class TokenCheck:
    """Whether a call's metadata carries the host's token."""

    __slots__ = ("_compare", "_expected")

    def __init__(self, token: str) -> None:
        # hmac is imported here, by hosts with a token: workers never need it.
        import hmac

        self._compare = hmac.compare_digest
        self._expected = (_SCHEME + check_token(token)).encode()

    def admits(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> bool:
        """``True`` if the first ``authorization`` header is ``Bearer <token>``."""
        for key, value in metadata or ():
            if key == AUTHORIZATION_HEADER:
                given = value if isinstance(value, bytes) else value.encode()
                return self._compare(given, self._expected)
        return False
