"""What one client may hold on a host, and how identifiers from the wire are logged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["LOGGED_ID_LENGTH", "ClientLimits", "clip"]

LOGGED_ID_LENGTH: Final = 120
"""Longest identifier (client id, topic type, request id) written to a log."""


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """Per-client limits of a :class:`~agentgen.runtime.grpc.GrpcHost`.

    A call over a limit is refused with ``RESOURCE_EXHAUSTED`` (counts) or
    ``INVALID_ARGUMENT`` (lengths), with a message naming the limit.

    ``max_agent_types`` and ``max_subscriptions`` bound what one client id
    may register. ``max_name_length`` bounds agent types, topic types,
    prefixes and subscription ids in registrations. A client id that
    registers something but opens no ``OpenChannel`` stream within
    ``unattached_grace`` seconds is forgotten (AutoGen workers may register
    just before their stream is attached, so registering first is allowed).
    """

    max_agent_types: int = 1_000
    max_subscriptions: int = 10_000
    max_name_length: int = 1_024
    unattached_grace: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_agent_types", "max_subscriptions", "max_name_length"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"ClientLimits.{name} must be positive, got {value}")
        if self.unattached_grace <= 0:
            raise ValueError(
                "ClientLimits.unattached_grace must be positive, got "
                f"{self.unattached_grace}"
            )


def clip(text: str, limit: int = LOGGED_ID_LENGTH) -> str:
    """``text`` fit for a log line: escaped if not printable, cut at ``limit``.

    Identifiers come from other processes: a client must not be able to write
    megabytes or fake log lines into the host's log through them.
    """
    if len(text) <= limit and text.isprintable():
        return text
    shown = text[:limit].encode("unicode_escape").decode("ascii")
    if len(text) > limit:
        return f"{shown}...({len(text)} characters)"
    return shown
