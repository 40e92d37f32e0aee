"""What one client may hold on a host."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ClientLimits"]


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
