"""Errors specific to the gRPC runtime."""

from __future__ import annotations

from ...errors import AgentgenError, NotDeliveredError

__all__ = ["ConnectionLostError", "HostRefusedError"]


class ConnectionLostError(NotDeliveredError):
    """The stream carrying an RPC ended before its reply arrived.

    Raised when the worker's own connection to the host drops, or when the
    host reports that the target agent's worker disconnected mid-call. The
    request may or may not have been handled.
    """


class HostRefusedError(AgentgenError, ValueError):
    """The host refused a registration: an agent type another worker owns,
    or a subscription that already exists."""
