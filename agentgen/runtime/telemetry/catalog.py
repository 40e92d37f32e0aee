"""Every metric agentgen exports: names, kinds, units and descriptions.

Counters are the fields of ``WorkerCounters``, ``HostCounters`` and
``NatsCounters``, named ``agentgen.worker.<field>``, ``agentgen.host.<field>``
and ``agentgen.nats.<field>`` (Prometheus: ``agentgen_worker_<field>_total``);
gauges and histograms are below. Each
runtime or host builds its :class:`~.metrics.MetricSet` from these.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Final, Protocol

from .metrics import COUNTER, GAUGE, HISTOGRAM, MetricSet, MetricSpec

__all__ = [
    "HANDLER_DURATION",
    "HOST_CLIENTS",
    "HOST_COUNTERS",
    "HOST_HELD_EVENTS",
    "HOST_QUEUED_FRAMES",
    "HOST_RPC_DURATION",
    "NATS_COUNTERS",
    "QUEUED_MESSAGES",
    "RPC_DURATION",
    "WORKER_COUNTERS",
    "WORKER_PUBLISHES_WAITING",
    "WORKER_QUEUED_FOR_HOST",
    "add_counters",
]

QUEUED_MESSAGES: Final = MetricSpec(
    "agentgen.runtime.queued_messages",
    GAUGE,
    "",
    "Messages queued in the runtime's mailboxes, not yet being handled.",
)
HANDLER_DURATION: Final = MetricSpec(
    "agentgen.handler.duration",
    HISTOGRAM,
    "s",
    "How long handlers ran, by agent type.",
)
RPC_DURATION: Final = MetricSpec(
    "agentgen.rpc.duration",
    HISTOGRAM,
    "s",
    "How long RPCs took from sending to their reply or failure, by target "
    "agent type.",
)
WORKER_QUEUED_FOR_HOST: Final = MetricSpec(
    "agentgen.worker.queued_for_host",
    GAUGE,
    "",
    "Frames queued on the worker's streams to the host, not yet written.",
)
WORKER_PUBLISHES_WAITING: Final = MetricSpec(
    "agentgen.worker.publishes_waiting",
    GAUGE,
    "",
    "Publishes waiting for a connection to the host.",
)
HOST_CLIENTS: Final = MetricSpec(
    "agentgen.host.clients", GAUGE, "", "Clients (worker connections) of the host."
)
HOST_QUEUED_FRAMES: Final = MetricSpec(
    "agentgen.host.queued_frames",
    GAUGE,
    "",
    "Frames queued for the host's clients, not yet written.",
)
HOST_HELD_EVENTS: Final = MetricSpec(
    "agentgen.host.held_events",
    GAUGE,
    "",
    "Events no subscription matched yet, held for late subscribers.",
)
HOST_RPC_DURATION: Final = MetricSpec(
    "agentgen.host.rpc.duration",
    HISTOGRAM,
    "s",
    "How long forwarded RPCs took from forwarding to the reply, by target "
    "agent type.",
)

WORKER_COUNTERS: Final[Mapping[str, str]] = {
    "published": "Publishes queued for the host.",
    "publishes_buffered": "Publishes made while disconnected that waited for "
    "the next connection.",
    "publishes_refused": "Publishes refused (buffer full or deadline passed).",
    "events_requeued": "Published events a lost connection had not written, "
    "kept for the next one.",
    "events_resent": "Events sent again after a reconnection.",
    "events_expired": "Published events dropped unsent after their call returned.",
    "events_received": "Events received from the host.",
    "events_delivered": "Events queued for local agents (one per recipient).",
    "duplicate_events": "Events received again after a reconnection and dropped.",
    "rpc_sent": "RPC requests sent.",
    "rpc_served": "RPC requests queued for local agents.",
    "rpc_failed": "RPCs sent that failed.",
    "reconnects": "Connections to the host made again after a loss.",
    "intake_pauses": "Times the worker stopped reading: its agents' backlog was "
    "full.",
    "batches_received": "Batch-stream messages received.",
    "malformed_frames": "Frames skipped as malformed or undecodable.",
    "malformed_batches": "Batch-stream messages skipped as malformed.",
    "unknown_frames": "Frames of no known kind skipped.",
    "unmatched_replies": "Replies to unknown or finished requests skipped.",
    "internal_errors": "Errors while handling a received frame.",
}
HOST_COUNTERS: Final[Mapping[str, str]] = {
    "frames_received": "Frames received from clients.",
    "batches_received": "Batch-stream messages received.",
    "events_routed": "Events routed.",
    "event_deliveries": "Events queued for a client (one per receiving client).",
    "events_held": "Events no subscription matched, held for late subscribers.",
    "events_without_subscriber": "Events dropped: no subscription matched them.",
    "rpc_forwarded": "RPC requests forwarded to their agent's client.",
    "rpc_replies": "RPC replies forwarded to their caller.",
    "rpc_undeliverable": "RPC requests answered with an error: no client serves "
    "the agent type.",
    "rpc_target_lost": "Forwarded RPCs whose target disconnected before replying.",
    "rpc_timed_out": "Forwarded RPCs not answered in time.",
    "unmatched_replies": "Replies to unknown or expired requests dropped.",
    "control_routed": "Control messages routed.",
    "control_undeliverable": "Control messages with no such destination.",
    "frames_dropped": "Frames for a client whose stream ended first.",
    "malformed_frames": "Frames skipped as malformed.",
    "malformed_batches": "Batch-stream messages skipped as malformed.",
    "unknown_frames": "Frames of no known kind skipped.",
    "oversized_frames": "Frames refused: payload over max_message_size.",
    "refused_calls": "Calls refused for a missing or wrong token.",
    "internal_errors": "Errors while handling a client's frames.",
}


NATS_COUNTERS: Final[Mapping[str, str]] = {
    "published": "Publishes sent or queued locally.",
    "events_sent": "Event frames sent to other workers.",
    "events_not_sent": "Event frames not sent after their publish returned "
    "(the connection closed).",
    "batches_sent": "NATS messages of event frames sent.",
    "batches_received": "NATS messages of event frames received.",
    "events_received": "Event messages received from other workers.",
    "events_delivered": "Events queued for local agents (one per recipient).",
    "events_forwarded": "Events sent on to the worker now owning their keys.",
    "events_unrouted": "Events for agent types nobody serves, or forwarded too "
    "often.",
    "rpc_sent": "RPC requests sent to other workers.",
    "rpc_served": "RPC requests queued for local agents.",
    "rpc_forwarded": "RPC requests sent on to the worker now owning their key.",
    "rpc_failed": "RPCs sent that failed.",
    "malformed_frames": "Messages skipped as malformed or undecodable.",
    "malformed_batches": "NATS messages of event frames skipped as malformed.",
    "unknown_frames": "Frames of no known kind skipped.",
    "malformed_entries": "Routing entries in the bucket that could not be read.",
    "routing_changes": "Changes of the routing state seen.",
    "lease_renewals_failed": "Lease renewals that failed (retried).",
    "reconnects": "Reconnections to NATS.",
    "slow_consumer_drops": "Messages the NATS client dropped: the worker fell "
    "behind.",
    "states_saved": "Agent states written to the bucket (handoffs, checkpoints).",
    "states_restored": "Agent states taken over from another worker.",
    "states_lost": "Handed-over states that did not arrive in time.",
    "internal_errors": "Errors while handling a received message.",
}


class Counters(Protocol):
    """``WorkerCounters``, ``HostCounters`` or ``NatsCounters``."""

    def snapshot(self) -> dict[str, int]:
        """The current values, by name."""


def add_counters(
    metric_set: MetricSet,
    section: str,
    descriptions: Mapping[str, str],
    counters: Counters,
) -> None:
    """Add each of ``counters`` as ``agentgen.<section>.<name>``.

    A counter missing from ``descriptions`` is an error (KeyError): the
    catalog must say what each exported metric counts.
    """
    for name in counters.snapshot():
        spec = MetricSpec(f"agentgen.{section}.{name}", COUNTER, "", descriptions[name])
        metric_set.add(spec, functools.partial(getattr, counters, name))
