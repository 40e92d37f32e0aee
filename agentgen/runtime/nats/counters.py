"""Traffic and fault counters of a NATS worker (for tests and metrics)."""

from __future__ import annotations

from ..counters import Counters

__all__ = ["NatsCounters"]


class NatsCounters(Counters):
    """What a :class:`~agentgen.runtime.nats.NatsWorkerRuntime` has seen and done."""

    published: int = 0
    """``publish_message`` calls that returned (sent, or queued locally)."""
    events_sent: int = 0
    """Event frames sent to other workers (one per worker an event goes to)."""
    events_not_sent: int = 0
    """Event frames whose batch could not be sent after their publish returned."""
    batches_sent: int = 0
    """NATS messages of event frames sent (each holds one or more)."""
    batches_received: int = 0
    events_received: int = 0
    events_delivered: int = 0
    """Deliveries to local agents (one event may reach several)."""
    events_forwarded: int = 0
    """Events that reached a worker no longer owning their keys, sent on."""
    events_unrouted: int = 0
    """Events for types nobody serves any more, or forwarded too often (logged)."""
    rpc_sent: int = 0
    rpc_served: int = 0
    rpc_forwarded: int = 0
    rpc_failed: int = 0
    malformed_frames: int = 0
    malformed_batches: int = 0
    unknown_frames: int = 0
    malformed_entries: int = 0
    """Routing entries in the bucket that could not be read (skipped)."""
    routing_changes: int = 0
    lease_renewals_failed: int = 0
    reconnects: int = 0
    slow_consumer_drops: int = 0
    """Messages the NATS client dropped because this worker fell behind."""
    states_saved: int = 0
    states_restored: int = 0
    states_lost: int = 0
    """Handed-over states that did not arrive in time (the agent started empty)."""
    internal_errors: int = 0
