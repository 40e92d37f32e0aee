"""The gRPC runtime: a worker and a host on AutoGen's ``agents.AgentRpc`` protocol.

Importing this package imports ``grpc``; :mod:`agentgen.runtime` re-exports
:class:`GrpcWorkerRuntime` and :class:`GrpcHost` lazily. The names below are
imported lazily too, each from its own module, so that a worker process does
not import the host side (``host``, ``host_router``, ``host_servicer``) and a
process without TLS does not import the TLS module.

``grpc`` itself is imported here first, through :mod:`.core_engine`, which
picks grpc core's socket engine before grpc reads its settings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core_engine import import_grpc

import_grpc()

if TYPE_CHECKING:
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

_LAZY: dict[str, str] = {
    "AuthenticationError": "auth",
    "HostCounters": "counters",
    "WorkerCounters": "counters",
    "ConnectionLostError": "errors",
    "HostRefusedError": "errors",
    "DEFAULT_HOST_ADDRESS": "host",
    "GrpcHost": "host",
    "ClientLimits": "host_limits",
    "DEFAULT_MAX_MESSAGE_SIZE": "limits",
    "ClientTls": "tls",
    "ServerTls": "tls",
    "GrpcWorkerRuntime": "worker",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
