"""Traffic and fault counters of a host (for tests and metrics)."""

from __future__ import annotations

from ...counters import Counters

__all__ = ["HostCounters"]


class HostCounters(Counters):
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
