"""Traffic and fault counters of a worker (for tests and metrics)."""

from __future__ import annotations

from ...counters import Counters

__all__ = ["WorkerCounters"]


class WorkerCounters(Counters):
    """What a :class:`~agentgen.runtime.grpc.GrpcWorkerRuntime` has seen and done."""

    published: int = 0
    """``publish_message`` calls that returned: the event is queued for the host."""
    publishes_buffered: int = 0
    """Publishes made while disconnected that waited for the next connection."""
    publishes_refused: int = 0
    """Publishes that raised NotDeliveredError (buffer full or deadline passed)."""
    events_requeued: int = 0
    """Published events a lost connection had not written, kept for the next one."""
    events_resent: int = 0
    """Events written just before a connection was lost, sent again after it."""
    events_expired: int = 0
    """Published events dropped unsent after their call returned (logged as errors)."""
    events_received: int = 0
    events_delivered: int = 0
    duplicate_events: int = 0
    """Events received again (resent after a reconnection) and dropped."""
    rpc_sent: int = 0
    rpc_served: int = 0
    rpc_failed: int = 0
    reconnects: int = 0
    intake_pauses: int = 0
    """Times the worker stopped reading from the host: its agents' backlog was full."""
    batches_received: int = 0
    """Batch-stream messages received (their frames are counted as received)."""
    malformed_frames: int = 0
    malformed_batches: int = 0
    """Batch-channel messages that were not length-prefixed frames (skipped)."""
    unknown_frames: int = 0
    unmatched_replies: int = 0
    internal_errors: int = 0
