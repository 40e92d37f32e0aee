"""The worker side of the gRPC runtime: :class:`GrpcWorkerRuntime` and its parts.

``runtime`` (the runtime), ``connection`` (connecting and reconnecting),
``inbound`` (received frames), ``outbound`` (publishes and requests),
``stream`` and ``link`` (the streams to the host), ``registrations``,
``pending_calls``, ``publish_buffer``, ``redelivery``, ``replies``.
Imports nothing of the host side.
"""

from .counters import WorkerCounters
from .runtime import GrpcWorkerRuntime

__all__ = ["GrpcWorkerRuntime", "WorkerCounters"]
