"""What a worker does with each frame the host sends it.

Events go to the mailboxes of the local agents subscribed to their topic
(over capacity if need be: intake is bounded by the agents' backlog, on
which the stream reader pauses); requests to their agent's mailbox, the
reply going back on the stream the request came on; replies complete the
worker's own pending calls. Nothing here touches a socket: a stream is
anything with a ``client_id`` and :meth:`ReplyStream.send_now`, so the unit
tests feed frames by hand.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable
from typing import Any, Protocol

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2

from ...context import MessageContext
from ...errors import UndeliverableError
from ...ids import TopicId
from ...local import LocalAgents
from ...log_text import FirstTimes, clip
from ...serialization import JSON_CONTENT_TYPE, UnknownPayload
from ...subscription_table import SubscriptionTable
from ...wire.batches import BatchReader
from ...wire.codec import PayloadCodec
from ...wire.frames import (
    DELIVER_TYPES_ATTRIBUTE,
    EVENT,
    REQUEST,
    RESPONSE,
    MalformedFrameError,
    error_response_frame,
    event_trace_carrier,
    is_resent,
    metadata_trace_carrier,
)
from ...wire.replies import reply_frame
from ...wire.requests import (
    RefusedRequest,
    reply_content_type,
    request_message,
    request_sender,
    request_target,
)
from ...wire.rpc_error_kinds import RpcErrorKind
from .counters import WorkerCounters
from .pending_calls import PendingCalls
from .redelivery import RecentEventIds
from .stream import Outgoing

__all__ = ["Inbound", "ReplyStream"]

logger = logging.getLogger("agentgen.runtime.grpc.worker")

"""The payload encodings agentgen reads and writes."""
_RECENT_EVENT_IDS = 16_384
"""Ids of received events remembered to drop repeats after a reconnection."""
_WARNED_TYPES_LIMIT = 1000


class ReplyStream(Protocol):
    """The stream a frame came on, as inbound handling sees it."""

    @property
    def client_id(self) -> str:
        """The client id the host knows the stream by."""

    def send_now(self, item: Outgoing) -> bool:
        """Queue a frame without waiting; ``False`` if the stream ended."""


class Inbound:
    """Handles the frames received on a worker's streams (see the module)."""

    def __init__(
        self,
        local: LocalAgents,
        subscriptions: SubscriptionTable,
        codec: PayloadCodec,
        pending: PendingCalls,
        counters: WorkerCounters,
    ) -> None:
        self._local = local
        self._subscriptions = subscriptions
        self._codec = codec
        self._pending = pending
        self._counters = counters
        self.reader = BatchReader(counters, logger, "the host (client {})")
        """Reads batches and frames for this worker's streams."""
        self._recent_events = RecentEventIds(_RECENT_EVENT_IDS)
        self._unknown_types = FirstTimes(_WARNED_TYPES_LIMIT)
        self.tracing = False
        """Whether to read trace context from frames and answer with the
        handler's (set by the runtime when tracing is on)."""

    def on_frame(self, stream: ReplyStream, frame: bytes) -> Awaitable[None] | None:
        """Handle a frame of the serving stream without waiting.

        Returns what the reader must await before the next frame while the
        agents' backlog is full (the worker's back-pressure on the host).
        """
        self.handle(stream, frame)
        backlog = self._local.backlog
        if backlog.full:
            self._counters.intake_pauses += 1
            return backlog.room()
        return None

    def on_reply_frame(self, stream: ReplyStream, frame: bytes) -> None:
        """Handle a frame of the calls stream (replies): never pauses it."""
        self.handle(stream, frame)

    def handle(self, stream: ReplyStream, frame: bytes) -> None:
        """Handle one frame; malformed ones are counted, logged and skipped."""
        read = self.reader.read(frame, stream.client_id)
        if read is None:
            return
        kind, message = read
        try:
            if kind == EVENT:
                self._on_event(stream, message.cloudEvent)
            elif kind == REQUEST:
                self._on_request(stream, message.request)
            elif kind == RESPONSE:
                self._on_response(message.response)
        except Exception:
            self._counters.internal_errors += 1
            logger.exception(
                "error handling a %s frame from the host (client %s)",
                kind,
                stream.client_id,
            )

    def _on_event(self, stream: ReplyStream, event: cloudevent_pb2.CloudEvent) -> None:
        counters = self._counters
        try:
            message, topic, sender = self._codec.decode_event(event)
        except MalformedFrameError as error:
            counters.malformed_frames += 1
            logger.warning(
                "skipped an event from the host (client %s): %s",
                stream.client_id,
                error,  # names the event by id, type and size, never its content
            )
            return
        if self._recent_events.seen_before(event.id) and is_resent(event):
            counters.duplicate_events += 1  # sent again after a reconnection
            return
        counters.events_received += 1
        if isinstance(message, UnknownPayload):
            self._skip_unknown(message, event.id, topic)
            return
        table = self._subscriptions
        recipients = table.cached_recipients.get(topic)
        if recipients is None:
            recipients = table.recipients(topic)
        only = event.attributes.get(DELIVER_TYPES_ATTRIBUTE)
        if only is not None:  # a by-key host routed some types' keys elsewhere
            allowed = only.ce_string.split(",")
            recipients = tuple(r for r in recipients if r.type in allowed)
        counters.events_delivered += self._local.queue_event(
            message,
            topic,
            sender,
            event.id,
            recipients,
            trace_carrier=event_trace_carrier(event) if self.tracing else None,
        )

    def _skip_unknown(
        self, payload: UnknownPayload, message_id: str, topic: TopicId
    ) -> None:
        self._counters.malformed_frames += 1
        type_name = clip(payload.type_name)
        if self._unknown_types.first(type_name):
            logger.warning(
                "skipped event %s on topic %s: no message class here for type %r "
                "(%s); import its _pb2 module or add a serializer (logged once "
                "per type)",
                clip(message_id),
                clip(str(topic)),
                type_name,
                clip(payload.content_type),
            )

    def _on_request(self, stream: ReplyStream, request: pb.RpcRequest) -> None:
        request_id = request.request_id
        try:
            target = request_target(request)
            if target.type not in self._local.instances.factories:
                raise RefusedRequest(
                    RpcErrorKind.UNDELIVERABLE,
                    f"agent type {target.type!r} is not registered in this worker",
                )
            message = request_message(self._codec, request, target)
            carrier = metadata_trace_carrier(request.metadata) if self.tracing else None
            try:
                reply, _, envelope = self._local.queue_request(
                    message,
                    target,
                    request_sender(request),
                    request_id,
                    trace_carrier=carrier,
                )
            except UndeliverableError as error:
                raise RefusedRequest(RpcErrorKind.UNDELIVERABLE, str(error)) from None
        except RefusedRequest as refused:
            self._send_error(stream, request_id, refused.kind, refused.reason)
            return
        self._counters.rpc_served += 1
        reply.add_done_callback(
            functools.partial(
                self._send_reply,
                stream,
                request_id,
                reply_content_type(request, JSON_CONTENT_TYPE),
                envelope[1] if self.tracing else None,
            )
        )

    def _send_reply(
        self,
        stream: ReplyStream,
        request_id: str,
        content_type: str,
        ctx: MessageContext | None,
        outcome: asyncio.Future[Any],
    ) -> None:
        # With tracing, ctx.trace_carrier is the handler span's by now.
        metadata = None if ctx is None else ctx.trace_carrier
        frame = reply_frame(self._codec, request_id, content_type, outcome, metadata)
        self._send_now(stream, frame)

    def _send_error(
        self, stream: ReplyStream, request_id: str, kind: RpcErrorKind, reason: str
    ) -> None:
        # The reason goes to the caller only: a parser's text can quote the payload.
        logger.info("refused request %s: %s", clip(request_id), kind.value)
        self._send_now(stream, error_response_frame(request_id, kind, reason))

    @staticmethod
    def _send_now(stream: ReplyStream, frame: bytes) -> None:
        """Queue a reply on the stream its request came on, never waiting."""
        if not stream.send_now(Outgoing(frame, False)) and logger.isEnabledFor(
            logging.DEBUG
        ):
            # The host has already answered the caller (connection lost).
            logger.debug("reply dropped: client %s is gone", stream.client_id)

    def _on_response(self, response: pb.RpcResponse) -> None:
        if not self._pending.resolve(response):
            self._counters.unmatched_replies += 1
            logger.info(
                "reply to unknown or finished request %s skipped",
                clip(response.request_id),
            )
