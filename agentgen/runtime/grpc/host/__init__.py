"""The host side of the gRPC runtime: :class:`GrpcHost` and its parts.

``server`` (the host), ``servicer`` (the ``agents.AgentRpc`` service),
``registry`` (clients and what they registered), ``router`` (where frames
go), ``held_events``, ``client_limits``. Imports nothing of the worker side.
"""

from .client_limits import ClientLimits
from .counters import HostCounters
from .placement import TypeSharing
from .server import DEFAULT_HOST_ADDRESS, GrpcHost

__all__ = [
    "DEFAULT_HOST_ADDRESS",
    "ClientLimits",
    "GrpcHost",
    "HostCounters",
    "TypeSharing",
]
