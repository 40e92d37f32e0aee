"""Routing the frames of a host's clients: events, RPCs and control messages.

Events are forwarded as the exact bytes received (never re-encoded), once per
client owning a subscribed agent type. RPC requests get host-unique request
ids on the way to the target and their own ids back on the way to the caller,
so callers that number requests per worker cannot collide (AutoGen #7016).
Every request ends with a reply: the target's, or an ``RpcResponse.error``
when the target type is unknown, its worker disconnects, or it times out. A
client cannot answer a request the host did not forward to it. Who owns what
is the :class:`~.registry.ClientRegistry`'s; identifiers from the wire are
logged clipped, payloads never.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError

from agentgen.protos import agent_worker_pb2 as pb

from ...deadlines import Deadlines
from ...log_text import clip
from ...uuids import IdSequence
from ...wire.frames import (
    EVENT,
    REQUEST,
    RESPONSE,
    SCHEMA_ATTRIBUTE,
    FrameReader,
    error_response_frame,
    event_trace_carrier,
    metadata_trace_carrier,
)
from ...wire.rpc_error_kinds import ERROR_KIND_KEY, RpcErrorKind
from ...wire.size_limits import DEFAULT_MAX_MESSAGE_SIZE, forwarded_frame_limit
from .client_limits import ClientLimits
from .counters import HostCounters
from .events import EventRouter
from .placement import Placement, TypeSharing
from .registry import Client, ClientRegistry, PendingRpc

if TYPE_CHECKING:
    from ...telemetry.metrics import Histogram
    from ...telemetry.tracing import Tracing

__all__ = ["HostRouter"]

logger = logging.getLogger("agentgen.runtime.grpc.host")

_AGENT_ID_DESTINATION = "agentid="
_CLIENT_ID_DESTINATION = "clientid="
_REQUEST_ID_RANDOM_BYTES = 6
"""Host request ids are 12 hex digits, a dash and a counter (see size_limits)."""


class HostRouter:
    """Routes the frames of every connected client; owned by one host.

    ``registry`` holds the clients and what they registered; the servicer
    hands each received frame to :meth:`on_frame` or :meth:`on_control_frame`.
    """

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
        type_sharing: TypeSharing = TypeSharing.EXCLUSIVE,
    ) -> None:
        self._rpc_timeout = rpc_timeout
        self._max_message_size = max_message_size
        self._forward_limit = forwarded_frame_limit(max_message_size)
        self.counters = counters
        self.registry = ClientRegistry(
            outbox_limit=outbox_limit,
            counters=counters,
            limits=limits or ClientLimits(),
            on_change=self._routes_changed,
            on_lost=self._client_lost,
            type_sharing=type_sharing,
        )
        """The clients, their agent types and subscriptions."""
        self._clients = self.registry.clients
        self.placement = Placement(type_sharing, self.registry.serving)
        """Which client serves what, when clients share agent types."""
        self._events = EventRouter(
            self.registry,
            self.placement,
            counters,
            hold_unrouted=hold_unrouted,
            hold_unrouted_bytes=hold_unrouted_bytes,
        )
        self._reader = FrameReader(counters, logger, "client {}")
        self._request_ids = IdSequence(_REQUEST_ID_RANDOM_BYTES)
        self._deadlines = Deadlines()
        self.tracing: Tracing | None = None
        """Set by the host while tracing is on: a span per routed message."""
        self.rpc_duration: Histogram | None = None
        """Set by the host while metrics are on."""

    @property
    def held_events(self) -> int:
        """Events held for late subscribers."""
        return self._events.held

    @property
    def queued_frames(self) -> int:
        """Frames queued for clients, not yet written."""
        return sum(
            len(client.outbox)
            for client in self._clients.values()
            if client.outbox is not None
        )

    @property
    def request_id_prefix(self) -> str:
        """What every request id this host gives a forwarded request starts with."""
        return self._request_ids.prefix

    def _routes_changed(self) -> None:
        self._events.routes_changed()

    def _client_lost(self, client: Client) -> None:
        for pending in client.pending.values():
            self._fail_pending(
                pending,
                RpcErrorKind.CONNECTION_LOST,
                f"the worker of agent type {pending.target_type!r} disconnected "
                "before replying",
            )
        client.pending.clear()

    def close(self) -> None:
        """The host stops: answer every pending RPC, then end every stream.

        Every answer is queued before any stream ends: a caller's stream may
        come before its target's.
        """
        clients = list(self._clients.values())
        for client in clients:
            for pending in client.pending.values():
                self._fail_pending(
                    pending, RpcErrorKind.CONNECTION_LOST, "the host is shutting down"
                )
            client.pending.clear()
        for client in clients:
            for outbox in (client.outbox, client.control):
                if outbox is not None:
                    outbox.close()
        self._deadlines.clear()

    # Data frames ------------------------------------------------------------

    async def on_frame(self, client_id: str, frame: bytes) -> None:
        """Route one frame received on ``client_id``'s data stream."""
        self.counters.frames_received += 1
        read = self._reader.read(frame, client_id)
        if read is None:
            return
        kind, message = read
        if len(frame) > self._max_message_size and self._refuse_oversized(
            client_id, message
        ):
            return
        if self.tracing is not None and kind != RESPONSE:
            await self._route_traced(self.tracing, client_id, frame, kind, message)
            return
        if kind == EVENT:
            await self._events.route(client_id, frame, message.cloudEvent)
        elif kind == REQUEST:
            await self._route_request(client_id, message)
        elif kind == RESPONSE:
            await self._route_response(client_id, message)

    async def _route_traced(
        self,
        tracing: Tracing,
        client_id: str,
        frame: bytes,
        kind: str,
        message: pb.Message,
    ) -> None:
        """Route an event or request in a span whose parent is the sender's.

        The trace context is read, never changed: the receiver's span is the
        sender's child too, and events go out as the bytes received.
        """
        if kind == EVENT:
            event = message.cloudEvent
            schema = event.attributes.get(SCHEMA_ATTRIBUTE)
            with tracing.routing(
                tracing.topic_destination(event),
                "" if schema is None else schema.ce_string,
                event.id,
                event_trace_carrier(event),
            ):
                await self._events.route(client_id, frame, event)
        else:
            request = message.request
            with tracing.routing(
                tracing.agent_destination(request.target),
                request.payload.data_type,
                request.request_id,
                metadata_trace_carrier(request.metadata),
            ):
                await self._route_request(client_id, message)

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

    async def _route_request(self, client_id: str, message: pb.Message) -> None:
        request = message.request
        target_type = request.target.type
        target_id = self.placement.rpc_client(target_type, request.target.key)
        target = self._clients.get(target_id) if target_id is not None else None
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
        host_request_id = self._request_ids.next()
        pending = PendingRpc(client_id, request.request_id, target_type)
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
        if self.rpc_duration is not None:
            pending.forwarded_at = time.perf_counter()
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
        if self.rpc_duration is not None and pending.forwarded_at:
            self.rpc_duration.record(
                time.perf_counter() - pending.forwarded_at,
                pending.target_type,
            )
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
        self, frame: bytes, client_id: str, pending: PendingRpc
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

    def _settle(self, pending: PendingRpc) -> None:
        """A forwarded request ended: its deadline is dropped."""
        if not pending.settled:
            pending.settled = True
            self._deadlines.release()

    def _fail_pending(
        self, pending: PendingRpc, kind: RpcErrorKind, reason: str
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
            agent_type, _, key = destination[len(_AGENT_ID_DESTINATION) :].partition(
                "/"
            )
            target_id = self.placement.rpc_client(agent_type, key)
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
