"""Traffic and fault counters of the host and the worker (for tests and metrics)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["HostCounters", "WorkerCounters"]


@dataclass(slots=True)
class _Counters:
    def snapshot(self) -> dict[str, int]:
        """The current values, by name."""
        return asdict(self)


@dataclass(slots=True)
class HostCounters(_Counters):
    """What a :class:`~agentgen.runtime.grpc.GrpcHost` has seen and done."""

    frames_received: int = 0
    batches_received: int = 0
    """Batch-channel messages received (their frames count in frames_received)."""
    events_routed: int = 0
    event_deliveries: int = 0
    events_held: int = 0
    """Events that matched no subscription and were held for late subscribers."""
    events_without_subscriber: int = 0
    """Events dropped because no subscription matched them (even after holding)."""
    rpc_forwarded: int = 0
    rpc_replies: int = 0
    rpc_undeliverable: int = 0
    rpc_target_lost: int = 0
    rpc_timed_out: int = 0
    unmatched_replies: int = 0
    control_routed: int = 0
    control_undeliverable: int = 0
    frames_dropped: int = 0
    """Frames queued for a client whose stream ended before they were written."""
    malformed_frames: int = 0
    malformed_batches: int = 0
    """Batch-channel messages that were not length-prefixed frames (skipped)."""
    unknown_frames: int = 0
    oversized_frames: int = 0
    """Frames whose payload is over the host's max_message_size (refused)."""
    refused_calls: int = 0
    """Calls refused for a missing or wrong token."""
    internal_errors: int = 0


@dataclass(slots=True)
class WorkerCounters(_Counters):
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
    malformed_frames: int = 0
    malformed_batches: int = 0
    """Batch-channel messages that were not length-prefixed frames (skipped)."""
    unknown_frames: int = 0
    unmatched_replies: int = 0
    internal_errors: int = 0
