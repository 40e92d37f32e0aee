"""The gRPC runtime: a worker and a host on AutoGen's ``agents.AgentRpc`` protocol.

Importing this package imports ``grpc``; :mod:`agentgen.runtime` re-exports
:class:`GrpcWorkerRuntime` and :class:`GrpcHost` lazily. The names below are
imported lazily too, each from its own module, so that a worker process does
not import the host side (the ``host`` package) and a process without TLS
does not import the TLS module.

Layout: ``protocol/`` is the wire protocol as bytes and frames, shared by
both sides; ``worker/`` is :class:`GrpcWorkerRuntime`; ``host/`` is
:class:`GrpcHost`. See ``docs/architecture.md``.

``grpc`` itself is imported here first, through :mod:`.core_engine`, which
picks grpc core's socket engine before grpc reads its settings.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .core_engine import import_grpc

import_grpc()

if TYPE_CHECKING:
    from ..wire.size_limits import DEFAULT_MAX_MESSAGE_SIZE
    from .host.client_limits import ClientLimits
    from .host.counters import HostCounters
    from .host.placement import TypeSharing
    from .host.server import DEFAULT_HOST_ADDRESS, GrpcHost
    from .protocol.auth import AuthenticationError
    from .protocol.connection_errors import ConnectionLostError, HostRefusedError
    from .protocol.tls import ClientTls, ServerTls
    from .worker.counters import WorkerCounters
    from .worker.runtime import GrpcWorkerRuntime

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
    "TypeSharing",
    "WorkerCounters",
]

_LAZY: dict[str, str] = {
    "AuthenticationError": "agentgen.runtime.grpc.protocol.auth",
    "ConnectionLostError": "agentgen.runtime.grpc.protocol.connection_errors",
    "HostRefusedError": "agentgen.runtime.grpc.protocol.connection_errors",
    "DEFAULT_MAX_MESSAGE_SIZE": "agentgen.runtime.wire.size_limits",
    "ClientTls": "agentgen.runtime.grpc.protocol.tls",
    "ServerTls": "agentgen.runtime.grpc.protocol.tls",
    "DEFAULT_HOST_ADDRESS": "agentgen.runtime.grpc.host.server",
    "GrpcHost": "agentgen.runtime.grpc.host.server",
    "ClientLimits": "agentgen.runtime.grpc.host.client_limits",
    "HostCounters": "agentgen.runtime.grpc.host.counters",
    "TypeSharing": "agentgen.runtime.grpc.host.placement",
    "GrpcWorkerRuntime": "agentgen.runtime.grpc.worker.runtime",
    "WorkerCounters": "agentgen.runtime.grpc.worker.counters",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
