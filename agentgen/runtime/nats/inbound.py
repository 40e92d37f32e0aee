"""What a NATS worker does with the events and requests routed to it.

Each message is checked against this worker's own view of who owns what:
the keys it owns are delivered to its agents (an event to the agent types
its ``agdelivertypes`` names, a request to its target), and what it no
longer owns (the routing state changed while the message travelled) is
forwarded to the owner, at most :data:`MAX_HOPS` times, never dropped
silently. Malformed input is counted, logged and skipped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from agentgen.protos import agent_worker_pb2 as pb

from ..context import MessageContext
from ..errors import UndeliverableError
from ..ids import AgentId, TopicId
from ..local import LocalAgents
from ..log_text import FirstTimes, clip
from ..serialization import PROTOBUF_CONTENT_TYPE, UnknownPayload
from ..wire.batches import BatchReader, pack
from ..wire.codec import PayloadCodec
from ..wire.frames import (
    DELIVER_TYPES_ATTRIBUTE,
    EVENT,
    REQUEST,
    MalformedFrameError,
    error_response_frame,
    event_trace_carrier,
    metadata_trace_carrier,
)
from ..wire.replies import reply_frame
from ..wire.requests import (
    RefusedRequest,
    reply_content_type,
    request_message,
    request_sender,
    request_target,
)
from ..wire.rpc_error_kinds import RpcErrorKind
from .counters import NatsCounters
from .routing import RoutingView
from .subjects import HOPS_HEADER, Subjects

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.aio.msg import Msg

__all__ = ["MAX_HOPS", "NatsInbound"]

logger = logging.getLogger("agentgen.runtime.nats")

MAX_HOPS = 3
"""Times a message may be forwarded between workers whose views disagree."""
_Route = tuple[tuple[AgentId, ...], dict[str, list[str]], tuple[str, ...]]
"""An event's agents here, other owners with their agent types, types unserved."""


class NatsInbound:
    """Handles the messages on a NATS worker's subjects (see the module)."""

    def __init__(
        self,
        client: Client,
        subjects: Subjects,
        worker_id: str,
        view: RoutingView,
        local: LocalAgents,
        codec: PayloadCodec,
        counters: NatsCounters,
    ) -> None:
        self._client = client
        self._subjects = subjects
        self._worker_id = worker_id
        self._view = view
        self._local = local
        self._codec = codec
        self._counters = counters
        self._logged = FirstTimes()
        self._batches = BatchReader(
            counters, logger, "NATS subject {}", once=self._logged
        )
        self.tracing = False
        """Whether received trace contexts are read (set when tracing is on)."""
        self.responding: set[asyncio.Future[None]] = set()
        """Replies being sent (await them before closing the connection)."""

    # -- events --------------------------------------------------------------

    async def on_event(self, msg: Msg) -> None:
        """A message on this worker's events subject: a batch of event frames."""
        forwards: list[tuple[str, pb.Message, list[str]]] = []
        routes: dict[tuple[str | None, str, str], _Route] = {}  # within the batch
        try:
            for data in self._batches.frames(msg.data, msg.subject):
                self._event(data, msg.subject, forwards, routes)
            for owner, frame, agent_types in forwards:
                await self._forward_event(msg, frame, owner, agent_types)
        except Exception:
            self._counters.internal_errors += 1
            logger.exception("error handling events on %s", clip(msg.subject))
        backlog = self._local.backlog
        if backlog.full:  # back-pressure: the client holds what follows
            await backlog.room()

    def _event(
        self,
        data: bytes,
        subject: str,
        forwards: list[tuple[str, pb.Message, list[str]]],
        routes: dict[tuple[str | None, str, str], _Route],
    ) -> None:
        read = self._batches.read(data, subject)
        if read is None:
            return
        kind, frame = read
        if kind != EVENT:
            self._skip(f"{kind} frame on an events subject", clip(subject))
            return
        event = frame.cloudEvent
        try:
            message, topic, sender = self._codec.decode_event(event)
        except MalformedFrameError as error:
            self._skip("undecodable event", str(error))
            return
        self._counters.events_received += 1
        if isinstance(message, UnknownPayload):
            self._skip(
                f"event of unknown type {clip(message.type_name)!r}",
                f"event {clip(event.id)}: no message class here; import its _pb2 "
                "module or add a serializer",
            )
            return
        named = event.attributes.get(DELIVER_TYPES_ATTRIBUTE)
        types_text = None if named is None else named.ce_string
        route_key = (types_text, topic.type, topic.source)
        route = routes.get(route_key)
        if route is None:
            route = routes[route_key] = self._route(types_text, topic)
        here, elsewhere, unrouted = route
        for agent_type in unrouted:
            self._unrouted(
                f"events for agent type {agent_type!r}, which nobody serves",
                f"event {clip(event.id)}",
            )
        if here:
            self._counters.events_delivered += self._local.queue_event(
                message,
                topic,
                sender,
                event.id,
                here,
                trace_carrier=event_trace_carrier(event) if self.tracing else None,
            )
        for owner, types in elsewhere.items():
            forwards.append((owner, frame, types))

    def _route(self, types_text: str | None, topic: TopicId) -> _Route:
        """Where an event goes: agents here, other owners, types nobody serves."""
        agent_types = (
            types_text.split(",")
            if types_text is not None
            else self._view.agent_types(topic.type)
        )
        here: list[AgentId] = []
        elsewhere: dict[str, list[str]] = {}
        unrouted: list[str] = []
        for agent_type in agent_types:
            owner = self._view.owner(agent_type, topic.source)
            if owner == self._worker_id:
                here.append(AgentId(agent_type, topic.source))
            elif owner is None:
                unrouted.append(agent_type)
            else:
                elsewhere.setdefault(owner, []).append(agent_type)
        return tuple(here), elsewhere, tuple(unrouted)

    async def _forward_event(
        self, msg: Msg, frame: pb.Message, owner: str, agent_types: list[str]
    ) -> None:
        hops = _hops(msg)
        if hops >= MAX_HOPS:
            self._unrouted(
                "events forwarded too often (the workers' routing states disagree)",
                f"event {clip(frame.cloudEvent.id)}, {hops} hops",
            )
            return
        frame.cloudEvent.attributes[DELIVER_TYPES_ATTRIBUTE].ce_string = ",".join(
            agent_types
        )
        await self._client.publish(
            self._subjects.events(owner),
            pack([frame.SerializeToString()]),
            headers={HOPS_HEADER: str(hops + 1)},
        )
        self._counters.events_forwarded += 1

    # -- requests ------------------------------------------------------------

    async def on_request(self, msg: Msg) -> None:
        """A message on this worker's requests subject."""
        try:
            await self._request(msg)
        except Exception:
            self._counters.internal_errors += 1
            logger.exception("error handling a request on %s", clip(msg.subject))

    async def _request(self, msg: Msg) -> None:
        read = self._batches.read(msg.data, msg.subject)
        if read is None:
            return
        kind, frame = read
        if kind != REQUEST or not msg.reply:
            self._skip(f"{kind} frame without a reply on a requests subject", "")
            return
        request = frame.request
        request_id = request.request_id
        try:
            target = request_target(request)
            owner = self._view.owner(target.type, target.key)
            if owner != self._worker_id:
                await self._forward_request(msg, request_id, target, owner)
                return
            message = request_message(self._codec, request, target)
        except RefusedRequest as refused:
            await self._refuse(msg.reply, request_id, refused.kind, refused.reason)
            return
        content_type = reply_content_type(request, PROTOBUF_CONTENT_TYPE)
        sender = request_sender(request)
        self._counters.rpc_served += 1
        ctx: MessageContext | None = None
        reply = self._local.send_eagerly(message, target, sender, request_id)
        if reply is None:  # the agent is busy or new (or deliveries are observed)
            carrier = metadata_trace_carrier(request.metadata) if self.tracing else None
            try:
                reply, _, envelope = self._local.queue_request(
                    message, target, sender, request_id, trace_carrier=carrier
                )
            except UndeliverableError as error:
                await self._refuse(
                    msg.reply, request_id, RpcErrorKind.UNDELIVERABLE, str(error)
                )
                return
            ctx = envelope[1] if self.tracing else None
        if reply.done():
            await self._respond(msg.reply, request_id, content_type, ctx, reply)
        else:
            answer = functools.partial(
                self._respond, msg.reply, request_id, content_type, ctx
            )
            reply.add_done_callback(functools.partial(self._respond_later, answer))

    async def _forward_request(
        self, msg: Msg, request_id: str, target: AgentId, owner: str | None
    ) -> None:
        hops = _hops(msg)
        if owner is None or hops >= MAX_HOPS:
            reason = (
                f"no worker serves agent type {target.type!r}"
                if owner is None
                else f"forwarded {hops} times: the workers' routing states disagree"
            )
            await self._refuse(
                msg.reply, request_id, RpcErrorKind.UNDELIVERABLE, reason
            )
            return
        await self._client.publish(
            self._subjects.requests(owner),
            msg.data,
            reply=msg.reply,
            headers={HOPS_HEADER: str(hops + 1)},
        )
        self._counters.rpc_forwarded += 1

    async def _respond(
        self,
        reply_to: str,
        request_id: str,
        content_type: str,
        ctx: MessageContext | None,
        outcome: asyncio.Future[Any],
    ) -> None:
        # With tracing, ctx.trace_carrier is the handler span's by now.
        metadata = None if ctx is None else ctx.trace_carrier
        frame = reply_frame(self._codec, request_id, content_type, outcome, metadata)
        try:
            await self._client.publish(reply_to, frame)
        except Exception as error:  # the caller's own deadline answers it
            logger.info("reply to request %s not sent: %s", clip(request_id), error)

    def _respond_later(
        self,
        answer: Callable[[asyncio.Future[Any]], Coroutine[Any, Any, None]],
        outcome: asyncio.Future[Any],
    ) -> None:
        task = asyncio.ensure_future(answer(outcome))
        self.responding.add(task)
        task.add_done_callback(self.responding.discard)

    async def _refuse(
        self, reply_to: str, request_id: str, kind: RpcErrorKind, reason: str
    ) -> None:
        # The reason goes to the caller only: a parser's text can quote the payload.
        logger.info("refused request %s: %s", clip(request_id), kind.value)
        try:
            await self._client.publish(
                reply_to, error_response_frame(request_id, kind, reason)
            )
        except Exception as error:
            logger.info("refusal of request %s not sent: %s", clip(request_id), error)

    # -- what is skipped -------------------------------------------------------

    def _skip(self, kind: str, detail: str) -> None:
        self._counters.malformed_frames += 1
        if self._logged.first(kind):
            logger.warning("skipped a %s (%s); logged once per kind", kind, detail)

    def _unrouted(self, kind: str, detail: str) -> None:
        self._counters.events_unrouted += 1
        if self._logged.first(kind):
            logger.warning("not delivered: %s (%s); logged once", kind, detail)


def _hops(msg: Msg) -> int:
    headers = msg.headers
    if not headers:
        return 0
    try:
        return int(headers.get(HOPS_HEADER, "0"))
    except ValueError:
        return MAX_HOPS
