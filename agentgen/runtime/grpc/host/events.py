"""Routing a host's events: to the clients serving the subscribed agent types.

An event goes out as the exact bytes received (never re-encoded), once per
client: the owner of each subscribed type (``exclusive``), every client
serving one (``fan-out``), or the one client serving each subscribed
(type, key) (``by-key``, see :mod:`.placement`). An event no subscription
matches is held for a while (:mod:`.held_events`) and delivered if a
matching subscription or server arrives meanwhile.
"""

from __future__ import annotations

import logging

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2

from ...log_text import FirstTimes, clip
from ...subscription_table import BoundedCache
from ...wire.frames import DELIVER_TYPES_ATTRIBUTE
from .counters import HostCounters
from .held_events import HeldEvents
from .placement import Placement, TypeSharing
from .registry import ClientRegistry

__all__ = ["EventRouter"]

logger = logging.getLogger("agentgen.runtime.grpc.host")


class EventRouter:
    """Sends each event to the clients it is for (see the module docstring)."""

    def __init__(
        self,
        registry: ClientRegistry,
        placement: Placement,
        counters: HostCounters,
        *,
        hold_unrouted: float,
        hold_unrouted_bytes: int,
    ) -> None:
        self._registry = registry
        self._clients = registry.clients
        self._placement = placement
        self._keyed = placement.mode is TypeSharing.BY_KEY
        self._counters = counters
        self._routes = BoundedCache[str, tuple[str, ...]]()
        """The clients an event on each topic type goes to (unless by key)."""
        self._unrouted_topics = FirstTimes()
        self._held = HeldEvents(hold_unrouted, hold_unrouted_bytes, self._drop_unrouted)

    @property
    def held(self) -> int:
        """Events held for late subscribers."""
        return len(self._held)

    async def route(
        self, client_id: str, frame: bytes, event: cloudevent_pb2.CloudEvent
    ) -> None:
        """Send ``event`` (received as ``frame`` from ``client_id``) on its way."""
        topic_type = event.type
        try:
            if self._keyed:
                sends = self._keyed_sends(frame, event)
                recipients: tuple[str, ...] = ()
            else:
                sends = []
                cached = self._routes.get(topic_type)
                recipients = (
                    cached if cached is not None else self._clients_for(topic_type)
                )
        except ValueError:
            self._counters.malformed_frames += 1
            logger.warning(
                "skipped event %s from client %s: invalid topic type %r",
                clip(event.id),
                clip(client_id),
                clip(topic_type),
            )
            return
        self._counters.events_routed += 1
        if not recipients and not sends:
            if self._held.hold(topic_type, frame):
                self._counters.events_held += 1
            return
        for recipient_id in recipients:
            await self._send(recipient_id, frame, topic_type)
        for recipient_id, sent in sends:
            await self._send(recipient_id, sent, topic_type)

    def _keyed_sends(
        self, frame: bytes, event: cloudevent_pb2.CloudEvent
    ) -> list[tuple[str, bytes]]:
        """By key: each client the event goes to, with the bytes it gets.

        Raises ValueError for an invalid topic type.
        """
        topic_type = event.type
        agent_types = self._registry.subscriptions.agent_types(topic_type)
        targets = self._placement.keyed_targets(topic_type, agent_types, event.source)
        return [
            (client, frame if only is None else _restricted(event, only))
            for client, only in targets
        ]

    def _clients_for(self, topic_type: str) -> tuple[str, ...]:
        """The clients to send an event on ``topic_type`` to, unless by key (cached).

        Raises ValueError for an invalid topic type.
        """
        agent_types = self._registry.subscriptions.agent_types(topic_type)
        recipients = self._placement.type_clients(agent_types)
        if len(topic_type) <= self._registry.limits.max_name_length:
            self._routes.keep(topic_type, recipients)
        return recipients

    async def _send(self, recipient_id: str, frame: bytes, topic_type: str) -> None:
        recipient = self._clients.get(recipient_id)
        if recipient is None or recipient.outbox is None:
            self._counters.frames_dropped += 1
            logger.warning(
                "event for topic type %r not delivered to client %s: it has "
                "no open channel",
                clip(topic_type),
                clip(recipient_id),
            )
            return
        if await recipient.outbox.put(frame):
            self._counters.event_deliveries += 1
        else:
            self._counters.frames_dropped += 1

    # -- events nobody subscribed to (yet) -----------------------------------

    def routes_changed(self) -> None:
        """Clients, servers or subscriptions changed: re-route from scratch."""
        self._routes.clear()
        self._placement.forget()
        if self._held:
            self._release_held_events()

    def _routable(self, topic_type: str) -> bool:
        agent_types = self._registry.subscriptions.agent_types(topic_type)
        return any(self._registry.serving.get(t) for t in agent_types)

    def _release_held_events(self) -> None:
        """Deliver held events that a new subscription or server now routes."""
        for frame in self._held.release(self._routable):
            event = pb.Message.FromString(frame).cloudEvent
            sends = (
                self._keyed_sends(frame, event)
                if self._keyed
                else [(client, frame) for client in self._clients_for(event.type)]
            )
            for recipient_id, sent in sends:
                recipient = self._clients.get(recipient_id)
                if recipient is not None and recipient.outbox is not None:
                    recipient.outbox.put_urgent(sent)
                    self._counters.event_deliveries += 1
                else:
                    self._counters.frames_dropped += 1

    def _drop_unrouted(self, topic_type: str) -> None:
        self._counters.events_without_subscriber += 1
        shown = clip(topic_type)
        if self._unrouted_topics.first(shown):
            logger.info(
                "events on topic type %r reached no subscriber (logged once per "
                "topic type)",
                shown,
            )


def _restricted(
    event: cloudevent_pb2.CloudEvent, agent_types: tuple[str, ...]
) -> bytes:
    """The event re-encoded with the agent types its receiver may deliver it to."""
    message = pb.Message()
    message.cloudEvent.CopyFrom(event)
    message.cloudEvent.attributes[DELIVER_TYPES_ATTRIBUTE].ce_string = ",".join(
        agent_types
    )
    return message.SerializeToString()
