"""Traffic and fault counters of the host and the worker (for tests and metrics)."""

from __future__ import annotations

import inspect
from typing import ClassVar

__all__ = ["HostCounters", "WorkerCounters"]


class _Counters:
    """Integer counters declared as annotated class attributes, all 0 at first.

    Not a dataclass: creating one costs about half a millisecond at import,
    and every worker process imports these (bench scenario 7). An instance
    reads the class's 0 until it first increments a counter.
    """

    _names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._names = tuple(inspect.get_annotations(cls))

    def snapshot(self) -> dict[str, int]:
        """The current values, by name."""
        return {name: getattr(self, name) for name in self._names}

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _Counters)
        return self.snapshot() == other.snapshot()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value}" for name, value in self.snapshot().items())
        return f"{type(self).__name__}({values})"


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
