"""What a NATS worker sends: events to the owners of their keys, RPC requests.

An event goes to each worker owning one of its (agent type, key) pairs, once,
with the types it is for in the ``agdelivertypes`` attribute, in a batch of
events (:mod:`.batcher`); pairs this worker owns are delivered here without
a round trip (the message object itself, as in-process). An RPC is a NATS
request to the owner of its key (or a local delivery), ended by the reply,
an error reply, NATS's "no responders" (:class:`UndeliverableError` at once)
or the deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nats.errors import ConnectionClosedError, NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from agentgen.protos import agent_worker_pb2 as pb

from ..deadlines import Deadlines
from ..errors import (
    AgentgenError,
    ConnectionLostError,
    RpcTimeoutError,
    SerializationError,
    UndeliverableError,
)
from ..ids import AgentId, TopicId
from ..local import Envelope, LocalAgents, Mailbox
from ..local.replies import await_reply, reply_outcome
from ..local.work import WorkCount
from ..log_text import FirstTimes, clip
from ..serialization import PROTOBUF_CONTENT_TYPE
from ..subscription_table import BoundedCache
from ..wire.codec import PayloadCodec
from ..wire.frames import DELIVER_TYPES_ATTRIBUTE, attribute_suffix, request_frame
from ..wire.replies import reply_value
from ..wire.size_limits import check_frame_size
from .batcher import EventBatcher
from .counters import NatsCounters
from .routing import RoutingView
from .subjects import Subjects

if TYPE_CHECKING:
    from nats.aio.client import Client

__all__ = ["NatsOutbound"]

logger = logging.getLogger("agentgen.runtime.nats")


class NatsOutbound:
    """Publishes and RPC requests of one NATS worker (see the module docstring)."""

    def __init__(
        self,
        client: Client,
        subjects: Subjects,
        worker_id: str,
        view: RoutingView,
        local: LocalAgents,
        codec: PayloadCodec,
        counters: NatsCounters,
        deadlines: Deadlines,
        work: WorkCount,
    ) -> None:
        self._client = client
        self.batcher = EventBatcher(client, counters, work)
        """The events waiting to be sent (``flush`` it before closing)."""
        self._subjects = subjects
        self._worker_id = worker_id
        self._view = view
        self._local = local
        self._codec = codec
        self._counters = counters
        self._deadlines = deadlines
        self._logged = FirstTimes()
        self._suffixes = BoundedCache[str, bytes]()

    async def publish(
        self,
        message: Any,
        topic: TopicId,
        sender: AgentId | None,
        message_id: str,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> None:
        """Send an event to the owners of its keys (see the module docstring).

        ``trace_carrier`` travels in the event's attributes (as AutoGen's do).
        """
        targets = self._view.event_targets(topic.type, topic.source)
        if not targets and self._logged.first(topic.type):
            logger.info(
                "no worker serves a subscriber of topic type %s (message %s); "
                "logged once per topic type",
                clip(topic.type),
                clip(message_id),
            )
        frame = b""
        for owner, agent_types in targets.items():
            if owner == self._worker_id:
                full: list[tuple[Mailbox, Envelope]] = []
                self._counters.events_delivered += self._local.queue_event(
                    message,
                    topic,
                    sender,
                    message_id,
                    tuple(AgentId(t, topic.source) for t in agent_types),
                    full,
                    trace_carrier=trace_carrier,
                )
                for mailbox, envelope in full:
                    await mailbox.put(envelope)
                continue
            if not frame:  # encoded once, whatever the number of owners
                frame = self._codec.event_frame(
                    message, topic, sender, message_id, None, trace_carrier
                )
            await self.batcher.add(
                self._subjects.events(owner), frame + self._types_suffix(agent_types)
            )
        self._counters.published += 1

    def _types_suffix(self, agent_types: tuple[str, ...]) -> bytes:
        text = ",".join(agent_types)
        try:
            return self._suffixes[text]
        except KeyError:
            suffix = attribute_suffix(DELIVER_TYPES_ATTRIBUTE, text)
            return self._suffixes.keep(text, suffix)

    async def call(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        request_id: str,
        limit: float,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> Any:
        """Send an RPC to the owner of ``recipient``'s key; return its reply.

        ``trace_carrier`` travels in the request's metadata.
        """
        owner = self._view.owner(recipient.type, recipient.key)
        if owner is None:
            self._counters.rpc_failed += 1
            raise UndeliverableError(
                f"no worker serves agent type {recipient.type!r} "
                f"(known: {', '.join(sorted(self._view.serving)) or 'none'})"
            )
        try:
            if owner == self._worker_id:
                return await self._call_here(
                    message, recipient, sender, request_id, limit, trace_carrier
                )
            return await self._call_remote(
                message, recipient, sender, request_id, limit, owner, trace_carrier
            )
        except AgentgenError:
            self._counters.rpc_failed += 1
            raise

    async def _call_here(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        request_id: str,
        limit: float,
        trace_carrier: Mapping[str, str] | None,
    ) -> Any:
        local = self._local
        reply = local.send_eagerly(message, recipient, sender, request_id)
        if reply is None:
            reply = await local.request(
                message, recipient, sender, request_id, trace_carrier=trace_carrier
            )
        elif reply.done():
            return reply_outcome(reply)
        return await await_reply(self._deadlines, reply, recipient, limit)

    async def _call_remote(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        request_id: str,
        limit: float,
        owner: str,
        trace_carrier: Mapping[str, str] | None,
    ) -> Any:
        type_name, data = self._codec.encode(message, PROTOBUF_CONTENT_TYPE)
        frame = request_frame(
            request_id,
            recipient,
            sender,
            type_name,
            PROTOBUF_CONTENT_TYPE,
            data,
            trace_carrier,
        )
        check_frame_size(len(frame), self._codec.max_message_size, "the request")
        self._counters.rpc_sent += 1
        try:
            reply = await self._client.request(
                self._subjects.requests(owner), frame, timeout=limit
            )
        except NoRespondersError:
            raise UndeliverableError(
                f"the worker serving {recipient} ({owner}) is gone: NATS has no "
                "responder for it (its lease has not ended yet)"
            ) from None
        except (NatsTimeout, TimeoutError):
            raise RpcTimeoutError(
                f"no reply from {recipient} within {limit:g} s (request {request_id})"
            ) from None
        except ConnectionClosedError as error:
            raise ConnectionLostError(
                f"the connection to NATS closed before {recipient} replied"
            ) from error
        try:
            response = pb.Message.FromString(reply.data).response
        except Exception as error:
            raise SerializationError(
                f"the reply of {recipient} is not an RpcResponse "
                f"({len(reply.data)} bytes)"
            ) from error
        return reply_value(response, self._codec, recipient)
