"""Who is connected to a host and what each client registered.

Ownership: a client serves the agent types it registered and owns the
subscriptions it added. It cannot register a type another client serves
(unless the host shares types, :mod:`.placement`), add a subscription for a
type it does not serve while others do, or remove another client's
subscription. When a client's streams end, its agent types and subscriptions
go with it; a type is free once its last client left. Identifiers from the
wire are logged clipped.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from agentgen.protos import agent_worker_pb2 as pb

from ...log_text import clip
from ...subscription_table import SubscriptionTable
from ...subscriptions import Subscription
from ...wire.frames import (
    InvalidSubscriptionError,
    subscription_from_wire,
    subscription_to_wire,
)
from ..protocol.outbox import Outbox
from .client_limits import ClientLimits
from .counters import HostCounters
from .placement import TypeSharing

__all__ = [
    "Client",
    "ClientLimitError",
    "ClientRegistry",
    "HostRejection",
    "NotOwnerError",
    "PendingRpc",
]

logger = logging.getLogger("agentgen.runtime.grpc.host")


class HostRejection(ValueError):
    """A registration call the host refuses (reported as INVALID_ARGUMENT)."""


class NotOwnerError(HostRejection):
    """The call touches what another client owns (PERMISSION_DENIED)."""


class ClientLimitError(HostRejection):
    """The client holds as much as its limits allow (RESOURCE_EXHAUSTED)."""


@dataclass(slots=True)
class PendingRpc:
    """A request the host forwarded and whose reply it awaits."""

    caller_id: str
    request_id: str
    target_type: str
    settled: bool = False
    """Answered, failed or timed out: its deadline no longer matters."""
    forwarded_at: float = 0.0
    """When it was forwarded (``time.perf_counter()``), while metrics are on."""

    def done(self) -> bool:
        """Whether the request ended (its deadline no longer matters)."""
        return self.settled


@dataclass(slots=True)
class Client:
    """One client id: its streams, what it registered, what it must answer."""

    client_id: str
    outbox: Outbox[bytes] | None = None
    control: Outbox[bytes] | None = None
    agent_types: set[str] = field(default_factory=set)
    subscription_ids: set[str] = field(default_factory=set)
    rules: set[Subscription] = field(default_factory=set)
    """This client's subscriptions, for finding its duplicates (eq by rule)."""
    pending: dict[str, PendingRpc] = field(default_factory=dict)
    """RPCs forwarded to this client, by host request id."""


class ClientRegistry:
    """Clients, the agent types they serve and their subscriptions, for one host.

    ``on_change()`` is called after every change that can change where an
    event goes; ``on_lost(client)`` when a client's data stream ended, before
    it is forgotten (its pending requests are then the router's to fail).
    With shared types, several clients may add the same subscription rule.
    """

    def __init__(
        self,
        *,
        outbox_limit: int,
        counters: HostCounters,
        limits: ClientLimits,
        on_change: Callable[[], None],
        on_lost: Callable[[Client], None],
        type_sharing: TypeSharing = TypeSharing.EXCLUSIVE,
    ) -> None:
        self._outbox_limit = outbox_limit
        self._counters = counters
        self.limits = limits
        self.type_sharing = type_sharing
        self._shared = type_sharing is not TypeSharing.EXCLUSIVE
        self._on_change = on_change
        self._on_lost = on_lost
        self.clients: dict[str, Client] = {}
        """Every known client, by id (read it; change it through the methods)."""
        self.serving: dict[str, list[str]] = {}
        """The client ids serving each registered agent type, first come first."""
        self.subscriptions = SubscriptionTable(
            limits.max_name_length, unique_rules=not self._shared
        )
        """Every client's subscriptions (matching, with its caches)."""
        self._subscriber: dict[str, str] = {}
        """The client id that added each subscription, by subscription id."""

    # -- registration calls --------------------------------------------------

    @property
    def owners(self) -> dict[str, str]:
        """The first client serving each registered agent type."""
        return {agent_type: ids[0] for agent_type, ids in self.serving.items()}

    def register_agent_type(self, client_id: str, agent_type: str) -> None:
        """Make ``client_id`` serve ``agent_type``.

        Subscriptions that clients not serving the type added while nobody
        served it are removed: a type's subscriptions are its servers'.
        """
        self._check_name("the agent type", agent_type)
        servers = self.serving.get(agent_type, [])
        if client_id in servers or (servers and not self._shared):
            # AutoGen's message, without the owner's client id: a client id is
            # all it takes to act as that client.
            whose = f"client {client_id}" if client_id in servers else "another client"
            raise HostRejection(
                f"Agent type {agent_type} already registered with {whose}."
            )
        client = self._registering_client(client_id)
        limit = self.limits.max_agent_types
        if len(client.agent_types) >= limit:
            raise ClientLimitError(
                f"client {client_id} already owns {len(client.agent_types)} agent "
                f"types, the host's limit (max_agent_types={limit}); agent type "
                f"{agent_type!r} not registered"
            )
        self.serving.setdefault(agent_type, []).append(client_id)
        client.agent_types.add(agent_type)
        if not servers:
            self._remove_foreign_subscriptions(agent_type, client_id)
        self._on_change()
        logger.info("client %s registered agent type %s", clip(client_id), agent_type)

    def add_subscription(self, client_id: str, message: pb.Subscription) -> None:
        """Add a client's subscription, keeping the id it chose."""
        by_type, by_prefix = message.typeSubscription, message.typePrefixSubscription
        self._check_name("the subscription id", message.id)
        self._check_name("the agent type", by_type.agent_type or by_prefix.agent_type)
        self._check_name("the topic type", by_type.topic_type)
        self._check_name("the topic type prefix", by_prefix.topic_type_prefix)
        if not message.id:
            message.id = str(uuid.uuid4())
        try:
            subscription = subscription_from_wire(message)
        except InvalidSubscriptionError as error:
            raise HostRejection(str(error)) from error
        servers = self.serving.get(subscription.agent_type)
        if servers and client_id not in servers:
            raise NotOwnerError(
                f"agent type {subscription.agent_type} belongs to another client; "
                "only its owner can subscribe it to topics"
                if not self._shared
                else f"agent type {subscription.agent_type} is served by other "
                "clients; only a client serving it can subscribe it to topics"
            )
        existing = self.subscriptions.duplicate_of(subscription)
        known = self.clients.get(client_id)
        if existing is None and known is not None and subscription in known.rules:
            existing = next(rule for rule in known.rules if rule == subscription)
        if existing is not None:
            raise HostRejection(f"Subscription already exists: {existing!r}")
        client = self._registering_client(client_id)
        limit = self.limits.max_subscriptions
        if len(client.subscription_ids) >= limit:
            raise ClientLimitError(
                f"client {client_id} already has {len(client.subscription_ids)} "
                f"subscriptions, the host's limit (max_subscriptions={limit}); "
                f"{subscription!r} not added"
            )
        self.subscriptions.add(subscription)
        self._subscriber[subscription.id] = client_id
        client.subscription_ids.add(subscription.id)
        client.rules.add(subscription)
        self._on_change()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("client %s added %r", clip(client_id), subscription)

    def remove_subscription(self, client_id: str, subscription_id: str) -> None:
        """Remove one of ``client_id``'s subscriptions by id."""
        if subscription_id not in self.subscriptions:
            raise HostRejection(
                f"Subscription {clip(subscription_id)!r} does not exist"
            )
        if self._subscriber.get(subscription_id) != client_id:
            raise NotOwnerError(
                f"subscription {clip(subscription_id)!r} was added by another "
                "client; only that client can remove it"
            )
        self._drop_subscription(subscription_id)
        self._on_change()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "client %s removed subscription %s",
                clip(client_id),
                clip(subscription_id),
            )

    def wire_subscriptions(self) -> list[pb.Subscription]:
        """Every client's subscriptions, with their ids, as on the wire."""
        return [subscription_to_wire(s) for s in self.subscriptions]

    def _check_name(self, what: str, value: str) -> None:
        limit = self.limits.max_name_length
        if len(value) > limit:
            raise HostRejection(
                f"{what} is {len(value)} characters long, over the host's limit "
                f"(max_name_length={limit})"
            )

    def _remove_foreign_subscriptions(self, agent_type: str, server_id: str) -> None:
        foreign = [
            subscription.id
            for subscription in self.subscriptions
            if subscription.agent_type == agent_type
            and self._subscriber.get(subscription.id) != server_id
        ]
        for subscription_id in foreign:
            self._drop_subscription(subscription_id)
        if foreign:
            logger.warning(
                "removed %d subscriptions for agent type %s added by other clients "
                "before client %s registered it",
                len(foreign),
                agent_type,
                clip(server_id),
            )

    def _drop_subscription(self, subscription_id: str) -> None:
        if subscription_id not in self.subscriptions:
            return
        subscription = self.subscriptions.remove(subscription_id)
        subscriber = self.clients.get(self._subscriber.pop(subscription_id, ""))
        if subscriber is not None:
            subscriber.subscription_ids.discard(subscription_id)
            subscriber.rules.discard(subscription)

    # -- clients and their streams -------------------------------------------

    def _client(self, client_id: str) -> Client:
        client = self.clients.get(client_id)
        if client is None:
            client = self.clients[client_id] = Client(client_id)
        return client

    def _registering_client(self, client_id: str) -> Client:
        """The client making a registration call, which may precede its stream."""
        client = self.clients.get(client_id)
        if client is None:
            client = self.clients[client_id] = Client(client_id)
            asyncio.get_running_loop().call_later(
                self.limits.unattached_grace, self._forget_if_unattached, client
            )
        return client

    def _forget_if_unattached(self, client: Client) -> None:
        if self.clients.get(client.client_id) is not client:
            return
        if client.outbox is not None or client.control is not None:
            return
        logger.warning(
            "client %s registered %d agent types and %d subscriptions but opened "
            "no channel within %g s; they are removed",
            clip(client.client_id),
            len(client.agent_types),
            len(client.subscription_ids),
            self.limits.unattached_grace,
        )
        self._forget(client)

    def open_channel(self, client_id: str) -> Outbox[bytes]:
        """Attach a new data stream to ``client_id`` (replacing an older one)."""
        client = self._client(client_id)
        if client.outbox is not None:
            logger.warning(
                "client %s opened a second channel; the first one is closed",
                clip(client_id),
            )
            self.count_dropped(client_id, client.outbox.close(discard=True))
        client.outbox = Outbox[bytes](self._outbox_limit)
        logger.info("client %s connected", clip(client_id))
        return client.outbox

    def close_channel(self, client_id: str, outbox: Outbox[bytes]) -> None:
        """The data stream ``outbox`` belongs to ended: forget the client."""
        self.count_dropped(client_id, outbox.close(discard=True))
        client = self.clients.get(client_id)
        if client is None or client.outbox is not outbox:
            return  # replaced by a newer stream of the same client: keep its state
        client.outbox = None
        self._on_lost(client)
        self._forget(client)
        logger.info("client %s disconnected", clip(client_id))

    def open_control_channel(self, client_id: str) -> Outbox[bytes]:
        """Attach a control stream to ``client_id``."""
        client = self._client(client_id)
        if client.control is not None:
            self.count_dropped(client_id, client.control.close(discard=True))
        client.control = Outbox[bytes](self._outbox_limit)
        return client.control

    def close_control_channel(self, client_id: str, outbox: Outbox[bytes]) -> None:
        """The control stream ``outbox`` belongs to ended."""
        self.count_dropped(client_id, outbox.close(discard=True))
        client = self.clients.get(client_id)
        if client is None or client.control is not outbox:
            return
        client.control = None
        if client.outbox is None:
            self._forget(client)

    def _forget(self, client: Client) -> None:
        """Drop a client's agent types and subscriptions (and it, if no stream)."""
        for agent_type in client.agent_types:
            servers = self.serving.get(agent_type)
            if servers is not None and client.client_id in servers:
                servers.remove(client.client_id)
                if not servers:
                    del self.serving[agent_type]
        for subscription_id in list(client.subscription_ids):
            self._drop_subscription(subscription_id)
        client.agent_types.clear()
        client.subscription_ids.clear()
        self._on_change()
        if client.control is None and self.clients.get(client.client_id) is client:
            del self.clients[client.client_id]

    def count_dropped(self, client_id: str, dropped: int) -> None:
        """Count and log frames a closed stream of ``client_id`` did not write."""
        if dropped:
            self._counters.frames_dropped += dropped
            logger.warning(
                "dropped %d frames queued for client %s: its stream ended",
                dropped,
                clip(client_id),
            )
