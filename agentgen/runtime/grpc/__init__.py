"""The gRPC runtime: a worker and a host on AutoGen's ``agents.AgentRpc`` protocol.

Importing this package imports ``grpc``; :mod:`agentgen.runtime` re-exports
:class:`GrpcWorkerRuntime` and :class:`GrpcHost` lazily.
"""

from __future__ import annotations

from .counters import HostCounters, WorkerCounters
from .errors import ConnectionLostError
from .host import DEFAULT_HOST_ADDRESS, GrpcHost
from .tls import ClientTls, ServerTls

__all__ = [
    "DEFAULT_HOST_ADDRESS",
    "ClientTls",
    "ConnectionLostError",
    "GrpcHost",
    "HostCounters",
    "ServerTls",
    "WorkerCounters",
]
