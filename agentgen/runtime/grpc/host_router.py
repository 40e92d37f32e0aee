"""The host's routing state: clients, agent types, subscriptions, pending RPCs.

Events are forwarded as the exact bytes received (never re-encoded), once per
client owning a subscribed agent type. RPC requests get host-unique request
ids on the way to the target and their own ids back on the way to the caller,
so callers that number requests per worker cannot collide (AutoGen #7016).
Every request ends with a reply: the target's, or an ``RpcResponse.error``
when the target type is unknown, its worker disconnects, or it times out.

Ownership: a client owns the agent types it registered and the subscriptions
it added. It cannot register a type another client owns, add a subscription
for one, remove another client's subscription, or answer a request the host
did not forward to it. Identifiers from the wire are logged clipped, payloads
never.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import uuid
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2

from ..deadlines import Deadlines
from ..ids import TopicId
from ..log_text import clip
from ..subscriptions import Subscription
from .counters import HostCounters
from .held_events import HeldEvents
from .host_limits import ClientLimits
from .limits import DEFAULT_MAX_MESSAGE_SIZE, forwarded_frame_limit
from .outbox import Outbox
from .rpc_errors import ERROR_KIND_KEY, RpcErrorKind
from .wire import (
    InvalidSubscriptionError,
    error_response_frame,
    subscription_from_wire,
    subscription_to_wire,
)

__all__ = ["ClientLimitError", "HostRejection", "HostRouter", "NotOwnerError"]

logger = logging.getLogger("agentgen.runtime.grpc.host")

_RECIPIENT_CACHE_LIMIT = 10_000
"""Topic types whose recipients are cached (direct-message topics are many)."""
_AGENT_ID_DESTINATION = "agentid="
_CLIENT_ID_DESTINATION = "clientid="


class HostRejection(ValueError):
    """A registration call the host refuses (reported as INVALID_ARGUMENT)."""


class NotOwnerError(HostRejection):
    """The call touches what another client owns (PERMISSION_DENIED)."""


class ClientLimitError(HostRejection):
    """The client holds as much as its limits allow (RESOURCE_EXHAUSTED)."""


@dataclass(slots=True)
class _PendingRpc:
    caller_id: str
    request_id: str
    target_type: str
    settled: bool = False
    """Answered, failed or timed out: its deadline no longer matters."""

    def done(self) -> bool:
        return self.settled


@dataclass(slots=True)
class _Client:
    client_id: str
    outbox: Outbox[bytes] | None = None
    control: Outbox[bytes] | None = None
    agent_types: set[str] = field(default_factory=set)
    subscription_ids: set[str] = field(default_factory=set)
    pending: dict[str, _PendingRpc] = field(default_factory=dict)
    """RPCs forwarded to this client, by host request id."""


class HostRouter:
    """Routes the frames of every connected client; owned by one host."""

    def __init__(
        self,
        *,
        rpc_timeout: float,
        outbox_limit: int,
        counters: HostCounters,
        hold_unrouted: float,
        hold_unrouted_bytes: int,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        limits: ClientLimits | None = None,
    ) -> None:
        self._rpc_timeout = rpc_timeout
        self._limits = limits or ClientLimits()
        self._max_message_size = max_message_size
        self._forward_limit = forwarded_frame_limit(max_message_size)
        self._outbox_limit = outbox_limit
        self.counters = counters
        self._clients: dict[str, _Client] = {}
        self._type_owner: dict[str, str] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._subscriber: dict[str, str] = {}
        """The client id that added each subscription, by subscription id."""
        self._rules: set[Subscription] = set()
        """Every subscription, for finding duplicate rules (hash and eq by rule)."""
        self._recipients: dict[str, tuple[str, ...]] = {}
        self._request_ids = itertools.count(1)
        self._deadlines = Deadlines()
        self._id_prefix = uuid.uuid4().hex[:12] + "-"
        self._unrouted_topics: set[str] = set()
        self._held = HeldEvents(hold_unrouted, hold_unrouted_bytes, self._drop_unrouted)

    # Registration -----------------------------------------------------------

    def _client(self, client_id: str) -> _Client:
        client = self._clients.get(client_id)
        if client is None:
            client = self._clients[client_id] = _Client(client_id)
        return client

    def _registering_client(self, client_id: str) -> _Client:
        """The client making a registration call, which may precede its stream."""
        client = self._clients.get(client_id)
        if client is None:
            client = self._clients[client_id] = _Client(client_id)
            asyncio.get_running_loop().call_later(
                self._limits.unattached_grace, self._forget_if_unattached, client
            )
        return client

    def _forget_if_unattached(self, client: _Client) -> None:
        if self._clients.get(client.client_id) is not client:
            return
        if client.outbox is not None or client.control is not None:
            return
        logger.warning(
            "client %s registered %d agent types and %d subscriptions but opened "
            "no channel within %g s; they are removed",
            clip(client.client_id),
            len(client.agent_types),
            len(client.subscription_ids),
            self._limits.unattached_grace,
        )
        self._forget(client)

    def _check_name(self, what: str, value: str) -> None:
        limit = self._limits.max_name_length
        if len(value) > limit:
            raise HostRejection(
                f"{what} is {len(value)} characters long, over the host's limit "
                f"(max_name_length={limit})"
            )

    def register_agent_type(self, client_id: str, agent_type: str) -> None:
        """Make ``client_id`` the owner of ``agent_type``.

        Subscriptions other clients added for the type while nobody owned it
        are removed: a type's subscriptions are its owner's.
        """
        self._check_name("the agent type", agent_type)
        owner = self._type_owner.get(agent_type)
        if owner is not None:
            # AutoGen's message, without the owner's client id: a client id is
            # all it takes to act as that client.
            whose = f"client {owner}" if owner == client_id else "another client"
            raise HostRejection(
                f"Agent type {agent_type} already registered with {whose}."
            )
        client = self._registering_client(client_id)
        limit = self._limits.max_agent_types
        if len(client.agent_types) >= limit:
            raise ClientLimitError(
                f"client {client_id} already owns {len(client.agent_types)} agent "
                f"types, the host's limit (max_agent_types={limit}); agent type "
                f"{agent_type!r} not registered"
            )
        self._type_owner[agent_type] = client_id
        client.agent_types.add(agent_type)
        self._remove_foreign_subscriptions(agent_type, client_id)
        self._recipients.clear()
        self._release_held_events()
        logger.info("client %s registered agent type %s", clip(client_id), agent_type)

    def _remove_foreign_subscriptions(self, agent_type: str, owner_id: str) -> None:
        foreign = [
            subscription.id
            for subscription in self._subscriptions.values()
            if subscription.agent_type == agent_type
            and self._subscriber.get(subscription.id) != owner_id
        ]
        for subscription_id in foreign:
            self._drop_subscription(subscription_id)
        if foreign:
            logger.warning(
                "removed %d subscriptions for agent type %s added by other clients "
                "before client %s registered it",
                len(foreign),
                agent_type,
                clip(owner_id),
            )

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
        owner = self._type_owner.get(subscription.agent_type)
        if owner is not None and owner != client_id:
            raise NotOwnerError(
                f"agent type {subscription.agent_type} belongs to another client; "
                "only its owner can subscribe it to topics"
            )
        if subscription.id in self._subscriptions or subscription in self._rules:
            existing = self._subscriptions.get(subscription.id) or subscription
            raise HostRejection(f"Subscription already exists: {existing!r}")
        client = self._registering_client(client_id)
        limit = self._limits.max_subscriptions
        if len(client.subscription_ids) >= limit:
            raise ClientLimitError(
                f"client {client_id} already has {len(client.subscription_ids)} "
                f"subscriptions, the host's limit (max_subscriptions={limit}); "
                f"{subscription!r} not added"
            )
        self._subscriptions[subscription.id] = subscription
        self._subscriber[subscription.id] = client_id
        self._rules.add(subscription)
        client.subscription_ids.add(subscription.id)
        self._recipients.clear()
        self._release_held_events()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("client %s added %r", clip(client_id), subscription)

    def remove_subscription(self, client_id: str, subscription_id: str) -> None:
        """Remove one of ``client_id``'s subscriptions by id."""
        if subscription_id not in self._subscriptions:
            raise HostRejection(
                f"Subscription {clip(subscription_id)!r} does not exist"
            )
        if self._subscriber.get(subscription_id) != client_id:
            raise NotOwnerError(
                f"subscription {clip(subscription_id)!r} was added by another "
                "client; only that client can remove it"
            )
        self._drop_subscription(subscription_id)
        self._recipients.clear()
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "client %s removed subscription %s",
                clip(client_id),
                clip(subscription_id),
            )

    def _drop_subscription(self, subscription_id: str) -> None:
        subscription = self._subscriptions.pop(subscription_id, None)
        if subscription is None:
            return
        self._rules.discard(subscription)
        subscriber = self._clients.get(self._subscriber.pop(subscription_id, ""))
        if subscriber is not None:
            subscriber.subscription_ids.discard(subscription_id)

    def agent_types(self) -> dict[str, str]:
        """Every registered agent type and the client id owning it."""
        return dict(self._type_owner)

    def subscriptions(self) -> list[pb.Subscription]:
        """Every client's subscriptions, with their ids."""
        return [subscription_to_wire(s) for s in self._subscriptions.values()]

    # Connections ------------------------------------------------------------

    def open_channel(self, client_id: str) -> Outbox[bytes]:
        """Attach a new data stream to ``client_id`` (replacing an older one)."""
        client = self._client(client_id)
        if client.outbox is not None:
            logger.warning(
                "client %s opened a second channel; the first one is closed",
                clip(client_id),
            )
            self._count_dropped(client_id, client.outbox.close(discard=True))
        client.outbox = Outbox[bytes](self._outbox_limit)
        logger.info("client %s connected", clip(client_id))
        return client.outbox

    def close_channel(self, client_id: str, outbox: Outbox[bytes]) -> None:
        """The data stream ``outbox`` belongs to ended: forget the client."""
        self._count_dropped(client_id, outbox.close(discard=True))
        client = self._clients.get(client_id)
        if client is None or client.outbox is not outbox:
            return  # replaced by a newer stream of the same client: keep its state
        client.outbox = None
        for request_id, pending in list(client.pending.items()):
            self._fail_pending(
                pending,
                RpcErrorKind.CONNECTION_LOST,
                f"the worker of agent type {pending.target_type!r} disconnected "
                "before replying",
            )
            del client.pending[request_id]
        self._forget(client)
        logger.info("client %s disconnected", clip(client_id))

    def _forget(self, client: _Client) -> None:
        """Drop a client's agent types and subscriptions (and it, if no stream)."""
        for agent_type in client.agent_types:
            if self._type_owner.get(agent_type) == client.client_id:
                del self._type_owner[agent_type]
        for subscription_id in list(client.subscription_ids):
            self._drop_subscription(subscription_id)
        client.agent_types.clear()
        client.subscription_ids.clear()
        self._recipients.clear()
        if client.control is None and self._clients.get(client.client_id) is client:
            del self._clients[client.client_id]

    def open_control_channel(self, client_id: str) -> Outbox[bytes]:
        """Attach a control stream to ``client_id``."""
        client = self._client(client_id)
        if client.control is not None:
            self._count_dropped(client_id, client.control.close(discard=True))
        client.control = Outbox[bytes](self._outbox_limit)
        return client.control

    def close_control_channel(self, client_id: str, outbox: Outbox[bytes]) -> None:
        """The control stream ``outbox`` belongs to ended."""
        self._count_dropped(client_id, outbox.close(discard=True))
        client = self._clients.get(client_id)
        if client is None or client.control is not outbox:
            return
        client.control = None
        if client.outbox is None:
            self._forget(client)

    def close(self) -> None:
        """The host stops: end every stream and answer every pending RPC."""
        for client in list(self._clients.values()):
            for pending in client.pending.values():
                self._fail_pending(
                    pending, RpcErrorKind.CONNECTION_LOST, "the host is shutting down"
                )
            client.pending.clear()
            for outbox in (client.outbox, client.control):
                if outbox is not None:
                    outbox.close()
        self._deadlines.clear()

    def _count_dropped(self, client_id: str, dropped: int) -> None:
        if dropped:
            self.counters.frames_dropped += dropped
            logger.warning(
                "dropped %d frames queued for client %s: its stream ended",
                dropped,
                clip(client_id),
            )

    # Data frames ------------------------------------------------------------

    async def on_frame(self, client_id: str, frame: bytes) -> None:
        """Route one frame received on ``client_id``'s data stream."""
        self.counters.frames_received += 1
        try:
            message = pb.Message.FromString(frame)
        except DecodeError as error:
            self.counters.malformed_frames += 1
            logger.warning(
                "skipped a malformed %d-byte frame from client %s: %s",
                len(frame),
                clip(client_id),
                error,
            )
            return
        if len(frame) > self._max_message_size and self._refuse_oversized(
            client_id, message
        ):
            return
        kind = message.WhichOneof("message")
        if kind == "cloudEvent":
            await self._route_event(client_id, frame, message.cloudEvent)
        elif kind == "request":
            await self._route_request(client_id, message)
        elif kind == "response":
            await self._route_response(client_id, message)
        else:
            self.counters.unknown_frames += 1
            logger.warning(
                "skipped a %d-byte frame with no known message from client %s",
                len(frame),
                clip(client_id),
            )

    def _refuse_oversized(self, client_id: str, message: pb.Message) -> bool:
        """Refuse a payload over max_message_size; ``True`` if nothing is left.

        gRPC's own limit is the frame limit (the payload limit plus room for
        the envelope), so a payload slightly over the limit gets here. A
        request is answered with an error, a reply replaced by one, an event
        dropped.
        """
        size, what = _payload_size(message)
        if size <= self._max_message_size:
            return False
        self.counters.oversized_frames += 1
        reason = (
            f"the {what} payload is {size} bytes, over the host's "
            f"max_message_size={self._max_message_size}"
        )
        logger.warning("refused a frame from client %s: %s", clip(client_id), reason)
        if what == "request":
            self._reply_error(
                client_id,
                message.request.request_id,
                RpcErrorKind.TOO_LARGE,
                reason,
            )
            return True
        if what == "reply":
            response = message.response
            response.ClearField("payload")
            response.error = reason
            response.metadata[ERROR_KIND_KEY] = RpcErrorKind.TOO_LARGE.value
            return False
        return True

    async def _route_event(
        self, client_id: str, frame: bytes, event: cloudevent_pb2.CloudEvent
    ) -> None:
        topic_type = event.type
        recipients = self._recipients.get(topic_type)
        if recipients is None:
            try:
                recipients = self._recipients_of(topic_type)
            except ValueError:
                self.counters.malformed_frames += 1
                logger.warning(
                    "skipped event %s from client %s: invalid topic type %r",
                    clip(event.id),
                    clip(client_id),
                    clip(topic_type),
                )
                return
        self.counters.events_routed += 1
        if not recipients:
            if self._held.hold(topic_type, frame):
                self.counters.events_held += 1
            return
        for recipient_id in recipients:
            recipient = self._clients.get(recipient_id)
            if recipient is None or recipient.outbox is None:
                self.counters.frames_dropped += 1
                logger.warning(
                    "event for topic type %r not delivered to client %s: it has "
                    "no open channel",
                    clip(topic_type),
                    clip(recipient_id),
                )
                continue
            if await recipient.outbox.put(frame):
                self.counters.event_deliveries += 1
            else:
                self.counters.frames_dropped += 1

    def _recipients_of(self, topic_type: str) -> tuple[str, ...]:
        """The clients to send an event on ``topic_type`` to (cached).

        Raises ValueError for an invalid topic type.
        """
        cached = self._recipients.get(topic_type)
        if cached is not None:
            return cached
        topic = TopicId(topic_type)
        owners: dict[str, None] = {}
        for subscription in self._subscriptions.values():
            if not subscription.is_match(topic):
                continue
            owner = self._type_owner.get(subscription.agent_type)
            if owner is not None:
                owners[owner] = None
        recipients = tuple(owners)
        if len(topic_type) <= self._limits.max_name_length:
            if len(self._recipients) >= _RECIPIENT_CACHE_LIMIT:
                self._recipients.clear()
            self._recipients[topic_type] = recipients
        return recipients

    def _release_held_events(self) -> None:
        """Deliver held events that a new subscription or owner now routes."""
        if not self._held:
            return
        for frame, recipients in self._held.release(self._recipients_of):
            for recipient_id in recipients:
                recipient = self._clients.get(recipient_id)
                if recipient is not None and recipient.outbox is not None:
                    recipient.outbox.put_urgent(frame)
                    self.counters.event_deliveries += 1
                else:
                    self.counters.frames_dropped += 1

    def _drop_unrouted(self, topic_type: str) -> None:
        self.counters.events_without_subscriber += 1
        shown = clip(topic_type)
        if shown not in self._unrouted_topics:
            if len(self._unrouted_topics) >= _RECIPIENT_CACHE_LIMIT:
                self._unrouted_topics.clear()
            self._unrouted_topics.add(shown)
            logger.info(
                "events on topic type %r reached no subscriber (logged once per "
                "topic type)",
                shown,
            )

    async def _route_request(self, client_id: str, message: pb.Message) -> None:
        request = message.request
        target_type = request.target.type
        owner_id = self._type_owner.get(target_type)
        target = self._clients.get(owner_id) if owner_id is not None else None
        if target is None or target.outbox is None:
            self.counters.rpc_undeliverable += 1
            reason = (
                f"no worker serves agent type {clip(target_type)!r}"
                if target is None
                else f"the worker of agent type {target_type!r} has no open channel"
            )
            logger.info(
                "request %s from client %s undeliverable: %s",
                clip(request.request_id),
                clip(client_id),
                reason,
            )
            self._reply_error(
                client_id, request.request_id, RpcErrorKind.UNDELIVERABLE, reason
            )
            return
        host_request_id = f"{self._id_prefix}{next(self._request_ids)}"
        pending = _PendingRpc(client_id, request.request_id, target_type)
        request.request_id = host_request_id
        forwarded = message.SerializeToString()
        if self._too_large_to_forward(forwarded, client_id, pending):
            return
        # One timer for every forwarded request, not a call_later each.
        loop = asyncio.get_running_loop()
        self._deadlines.add_at(
            loop,
            loop.time() + self._rpc_timeout,
            pending,
            functools.partial(self._expire, target.client_id, host_request_id),
        )
        target.pending[host_request_id] = pending
        self.counters.rpc_forwarded += 1
        await target.outbox.put(forwarded)

    async def _route_response(self, client_id: str, message: pb.Message) -> None:
        response = message.response
        client = self._clients.get(client_id)
        pending = client.pending.pop(response.request_id, None) if client else None
        if pending is None:
            # Request ids are kept per target client, so a reply to a request
            # forwarded to another client lands here too and goes nowhere.
            self.counters.unmatched_replies += 1
            logger.info(
                "client %s replied to request %s, which is unknown, expired or "
                "was not forwarded to it; the reply is dropped",
                clip(client_id),
                clip(response.request_id),
            )
            return
        self._settle(pending)
        caller = self._clients.get(pending.caller_id)
        if caller is None or caller.outbox is None:
            self.counters.frames_dropped += 1
            logger.info(
                "reply to request %s dropped: caller %s disconnected",
                clip(pending.request_id),
                clip(pending.caller_id),
            )
            return
        response.request_id = pending.request_id
        forwarded = message.SerializeToString()
        if self._too_large_to_forward(forwarded, client_id, pending):
            return
        self.counters.rpc_replies += 1
        # Never waits: a caller that stopped reading must not stall the callee's
        # stream. Replies are bounded by the requests forwarded, which wait.
        caller.outbox.put_urgent(forwarded)

    def _too_large_to_forward(
        self, frame: bytes, client_id: str, pending: _PendingRpc
    ) -> bool:
        """Answer the caller with an error if ``frame`` outgrew the send limit.

        Rewriting a request id can take a frame that arrived within gRPC's
        limit past it (the caller chooses its ids); writing it would end the
        receiver's stream, so the call fails alone, with its reason.
        """
        if len(frame) <= self._forward_limit:
            return False
        self.counters.oversized_frames += 1
        reason = (
            f"the frame for request {clip(pending.request_id)} from client "
            f"{clip(client_id)} is {len(frame)} bytes once its request id is "
            f"rewritten, over the host's {self._forward_limit}-byte limit; use "
            "shorter request ids or a smaller message"
        )
        logger.warning("refused to forward a frame: %s", reason)
        self._reply_error(
            pending.caller_id, pending.request_id, RpcErrorKind.TOO_LARGE, reason
        )
        return True

    def _expire(self, target_id: str, host_request_id: str) -> None:
        target = self._clients.get(target_id)
        pending = target.pending.pop(host_request_id, None) if target else None
        if pending is None:
            return
        self.counters.rpc_timed_out += 1
        self._fail_pending(
            pending,
            RpcErrorKind.TIMEOUT,
            f"agent type {pending.target_type!r} did not reply within "
            f"{self._rpc_timeout:g} s",
        )

    def _settle(self, pending: _PendingRpc) -> None:
        """A forwarded request ended: its deadline is dropped."""
        if not pending.settled:
            pending.settled = True
            self._deadlines.release()

    def _fail_pending(
        self, pending: _PendingRpc, kind: RpcErrorKind, reason: str
    ) -> None:
        self._settle(pending)
        if kind is RpcErrorKind.CONNECTION_LOST:
            self.counters.rpc_target_lost += 1
        self._reply_error(pending.caller_id, pending.request_id, kind, reason)

    def _reply_error(
        self, client_id: str, request_id: str, kind: RpcErrorKind, reason: str
    ) -> None:
        client = self._clients.get(client_id)
        if client is None or client.outbox is None:
            return
        client.outbox.put_urgent(error_response_frame(request_id, kind, reason))

    # Control frames ---------------------------------------------------------

    async def on_control_frame(self, client_id: str, frame: bytes) -> None:
        """Route one control message by its ``destination``, unchanged."""
        try:
            destination = pb.ControlMessage.FromString(frame).destination
        except DecodeError as error:
            self.counters.malformed_frames += 1
            logger.warning(
                "skipped a malformed control frame from client %s: %s",
                clip(client_id),
                error,
            )
            return
        target_id: str | None = None
        if destination.startswith(_AGENT_ID_DESTINATION):
            agent_type = destination[len(_AGENT_ID_DESTINATION) :].partition("/")[0]
            target_id = self._type_owner.get(agent_type)
        elif destination.startswith(_CLIENT_ID_DESTINATION):
            target_id = destination[len(_CLIENT_ID_DESTINATION) :]
        target = self._clients.get(target_id) if target_id is not None else None
        if target is None or target.control is None:
            self.counters.control_undeliverable += 1
            logger.warning(
                "control message from client %s to %r undeliverable: no such "
                "control channel",
                clip(client_id),
                clip(destination),
            )
            return
        if await target.control.put(frame):
            self.counters.control_routed += 1
        else:
            self.counters.frames_dropped += 1


def _payload_size(message: pb.Message) -> tuple[int, str]:
    """The size of the payload a frame carries, and what kind of frame it is."""
    kind = message.WhichOneof("message")
    if kind == "request":
        return len(message.request.payload.data), "request"
    if kind == "response":
        return len(message.response.payload.data), "reply"
    if kind == "cloudEvent":
        event = message.cloudEvent
        data = event.WhichOneof("data")
        if data == "proto_data":
            return len(event.proto_data.value), "event"
        if data == "text_data":
            return len(event.text_data.encode()), "event"
        if data == "binary_data":
            return len(event.binary_data), "event"
    return 0, "frame"
