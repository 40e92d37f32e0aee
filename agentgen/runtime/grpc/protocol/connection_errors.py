"""Errors specific to the gRPC runtime (``ConnectionLostError`` is any transport's)."""

from __future__ import annotations

from ...errors import AgentgenError, ConnectionLostError

__all__ = ["ConnectionLostError", "HostRefusedError"]


class HostRefusedError(AgentgenError, ValueError):
    """The host refused a registration: an agent type another worker owns,
    or a subscription that already exists."""
