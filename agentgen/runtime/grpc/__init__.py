"""The gRPC runtime: a worker and a host on AutoGen's ``agents.AgentRpc`` protocol.

Importing this package imports ``grpc``; :mod:`agentgen.runtime` re-exports
:class:`GrpcWorkerRuntime` and :class:`GrpcHost` lazily.
"""

from __future__ import annotations

from .auth import AuthenticationError
from .counters import HostCounters, WorkerCounters
from .errors import ConnectionLostError, HostRefusedError
from .host import DEFAULT_HOST_ADDRESS, GrpcHost
from .host_limits import ClientLimits
from .limits import DEFAULT_MAX_MESSAGE_SIZE
from .tls import ClientTls, ServerTls
from .worker import GrpcWorkerRuntime

__all__ = [
    "DEFAULT_HOST_ADDRESS",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "AuthenticationError",
    "ClientLimits",
    "ClientTls",
    "ConnectionLostError",
    "GrpcHost",
    "GrpcWorkerRuntime",
    "HostCounters",
    "HostRefusedError",
    "ServerTls",
    "WorkerCounters",
]
