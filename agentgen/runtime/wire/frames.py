"""AutoGen's frames, whatever carries them: reading them, and making them.

A frame is one serialized ``agents.Message``: a CloudEvent, an RPC request
or an RPC response, as on the ``OpenChannel`` stream of AutoGen's gRPC
protocol; agentgen's other transports carry the same frames.
:class:`FrameReader` is how a receiver reads them (skipping and counting
what is malformed); the functions build the frames that carry no user
payload encoding (see :mod:`.codec` for those that do).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final, Protocol

from google.protobuf.message import DecodeError

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2

from ..ids import AgentId
from ..log_text import FirstTimes, clip
from ..subscriptions import Subscription, TypePrefixSubscription, TypeSubscription
from .rpc_error_kinds import ERROR_KIND_KEY, RpcErrorKind

__all__ = [
    "CONTENT_TYPE_ATTRIBUTE",
    "DELIVER_TYPES_ATTRIBUTE",
    "EVENT",
    "MESSAGE_KIND_ATTRIBUTE",
    "REQUEST",
    "RESENT_ATTRIBUTE",
    "RESPONSE",
    "SCHEMA_ATTRIBUTE",
    "SENDER_KEY_ATTRIBUTE",
    "SENDER_TYPE_ATTRIBUTE",
    "TRACE_PARENT",
    "TRACE_STATE",
    "FrameReader",
    "InvalidSubscriptionError",
    "MalformedFrameError",
    "attribute_suffix",
    "error_response_frame",
    "event_trace_carrier",
    "is_resent",
    "mark_resent",
    "metadata_trace_carrier",
    "request_frame",
    "response_frame",
    "subscription_from_wire",
    "subscription_to_wire",
]

CONTENT_TYPE_ATTRIBUTE: Final = "datacontenttype"
SCHEMA_ATTRIBUTE: Final = "dataschema"
SENDER_TYPE_ATTRIBUTE: Final = "agagentsendertype"
SENDER_KEY_ATTRIBUTE: Final = "agagentsenderkey"
MESSAGE_KIND_ATTRIBUTE: Final = "agmsgkind"
PUBLISH_KIND: Final = "publish"
DELIVER_TYPES_ATTRIBUTE: Final = "agdelivertypes"
"""Extension attribute (agentgen): the only local agent types a receiving worker
may deliver this event to, comma-separated. A by-key host adds it when the
receiver serves subscribed types whose key it routed to another worker."""
RESENT_ATTRIBUTE: Final = "agresent"
"""Extension attribute of an event sent again after a reconnection (agentgen)."""
TRACE_PARENT: Final = "traceparent"
TRACE_STATE: Final = "tracestate"
"""W3C trace context: CloudEvent ``ce_string`` attributes of an event, keys of
``RpcRequest.metadata`` and ``RpcResponse.metadata`` (as AutoGen reads them)."""
SPEC_VERSION: Final = "1.0"
UNKNOWN_SENDER: Final = "unknown"
"""What AutoGen Python publishers write as sender type and key when there is none."""

EVENT: Final = "cloudEvent"
REQUEST: Final = "request"
RESPONSE: Final = "response"
"""The kinds of frame (``agents.Message``'s oneof) :meth:`FrameReader.read` returns."""


class MalformedFrameError(ValueError):
    """A received frame cannot be understood (bad topic, no data, bad payload)."""


class InvalidSubscriptionError(ValueError):
    """A wire ``agents.Subscription`` describes no valid subscription."""


class IntakeCounters(Protocol):
    """The counters a :class:`FrameReader` keeps (every side's counters have them)."""

    malformed_frames: int
    unknown_frames: int


class FrameReader:
    """How a receiver reads frames; skips are counted and logged.

    ``origin`` names where frames come from in log lines, with ``{}`` for
    the client id (e.g. ``"client {}"``). ``logger`` is the receiver's own;
    with ``once``, each kind of skip is logged the first time only (every
    one is counted). Nothing here raises for bad bytes: a malformed frame or
    one of no known kind yields ``None``.
    """

    __slots__ = ("_counters", "_once", "logger", "origin")

    def __init__(
        self,
        counters: IntakeCounters,
        logger: logging.Logger,
        origin: str,
        *,
        once: FirstTimes | None = None,
    ) -> None:
        self._counters = counters
        self._once = once
        self.logger = logger
        """Where skipped frames are logged."""
        self.origin = origin
        """Where frames come from, for log lines (``{}``: the client id)."""

    def logs(self, kind: str) -> bool:
        """Whether a skip of ``kind`` is to be logged now."""
        return self._once is None or self._once.first(kind)

    def read(self, frame: bytes, client_id: str) -> tuple[str, pb.Message] | None:
        """The kind (:data:`EVENT`, :data:`REQUEST`, :data:`RESPONSE`) and message."""
        try:
            message = pb.Message.FromString(frame)
        except DecodeError as error:
            self._counters.malformed_frames += 1
            if self.logs("malformed"):
                self.logger.warning(
                    "skipped a malformed %d-byte frame from %s: %s",
                    len(frame),
                    self.origin.format(clip(client_id)),
                    error,
                )
            return None
        kind = message.WhichOneof("message")
        if kind is None:
            self._counters.unknown_frames += 1
            if self.logs("no message"):
                self.logger.warning(
                    "skipped a %d-byte frame with no known message from %s",
                    len(frame),
                    self.origin.format(clip(client_id)),
                )
            return None
        return kind, message


def mark_resent(frame: bytes) -> bytes:
    """``frame`` (a ``Message{cloudEvent}``) marked as sent again.

    Receivers drop a marked event whose id they have already seen; an
    unmarked one is always delivered (a publisher may reuse an id).
    """
    message = pb.Message.FromString(frame)
    message.cloudEvent.attributes[RESENT_ATTRIBUTE].ce_boolean = True
    return message.SerializeToString()


def attribute_suffix(name: str, value: str) -> bytes:
    """Bytes adding attribute ``name`` (a ``ce_string``) to an event frame.

    Appended to a ``Message{cloudEvent}`` frame without that attribute:
    protobuf parses concatenated messages as one message, merged, so one
    encoded event can go to several receivers with a different attribute each.
    """
    frame = pb.Message()
    frame.cloudEvent.attributes[name].ce_string = value
    return frame.SerializeToString()


def is_resent(event: cloudevent_pb2.CloudEvent) -> bool:
    """Whether ``event`` was marked by :func:`mark_resent`."""
    attribute = event.attributes.get(RESENT_ATTRIBUTE)
    return attribute is not None and attribute.ce_boolean


def event_trace_carrier(event: cloudevent_pb2.CloudEvent) -> dict[str, str] | None:
    """The W3C trace context of an event (``ce_string`` attributes), if any."""
    attributes = event.attributes
    parent = attributes.get(TRACE_PARENT)
    if parent is None or not parent.ce_string:
        return None
    carrier = {TRACE_PARENT: parent.ce_string}
    state = attributes.get(TRACE_STATE)
    if state is not None and state.ce_string:
        carrier[TRACE_STATE] = state.ce_string
    return carrier


def metadata_trace_carrier(metadata: Mapping[str, str]) -> dict[str, str] | None:
    """The W3C trace context of an RPC request's or reply's metadata, if any."""
    parent = metadata.get(TRACE_PARENT)
    if not parent:
        return None
    carrier = {TRACE_PARENT: parent}
    state = metadata.get(TRACE_STATE)
    if state:
        carrier[TRACE_STATE] = state
    return carrier


def subscription_from_wire(message: pb.Subscription) -> Subscription:
    """The subscription a wire ``agents.Subscription`` describes."""
    kind = message.WhichOneof("subscription")
    try:
        if kind == "typeSubscription":
            rule = message.typeSubscription
            return TypeSubscription(rule.topic_type, rule.agent_type, message.id)
        if kind == "typePrefixSubscription":
            prefix = message.typePrefixSubscription
            return TypePrefixSubscription(
                prefix.topic_type_prefix, prefix.agent_type, message.id
            )
    except ValueError as error:
        raise InvalidSubscriptionError(
            f"Invalid subscription message: {error}"
        ) from error
    raise InvalidSubscriptionError(
        "Invalid subscription message: neither typeSubscription nor "
        "typePrefixSubscription is set"
    )


def subscription_to_wire(subscription: Subscription) -> pb.Subscription:
    """The wire ``agents.Subscription`` for ``subscription``."""
    message = pb.Subscription(id=subscription.id)
    if isinstance(subscription, TypePrefixSubscription):
        message.typePrefixSubscription.topic_type_prefix = (
            subscription.topic_type_prefix
        )
        message.typePrefixSubscription.agent_type = subscription.agent_type
    elif isinstance(subscription, TypeSubscription):
        message.typeSubscription.topic_type = subscription.topic_type
        message.typeSubscription.agent_type = subscription.agent_type
    else:
        raise TypeError(f"no wire form for {subscription!r}")
    return message


def request_frame(
    request_id: str,
    target: AgentId,
    sender: AgentId | None,
    type_name: str,
    content_type: str,
    data: bytes,
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """``Message{request}`` for one RPC (``metadata``: e.g. the trace context)."""
    frame = pb.Message()
    request = frame.request
    request.request_id = request_id
    if metadata:
        request.metadata.update(metadata)
    request.target.type = target.type
    request.target.key = target.key
    if sender is not None:
        request.source.type = sender.type
        request.source.key = sender.key
    payload = request.payload
    payload.data_type = type_name
    payload.data_content_type = content_type
    payload.data = data
    return frame.SerializeToString()


def response_frame(
    request_id: str,
    type_name: str,
    content_type: str,
    data: bytes,
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """``Message{response}`` carrying a reply payload."""
    frame = pb.Message()
    response = frame.response
    response.request_id = request_id
    if metadata:
        response.metadata.update(metadata)
    payload = response.payload
    payload.data_type = type_name
    payload.data_content_type = content_type
    payload.data = data
    return frame.SerializeToString()


def error_response_frame(
    request_id: str,
    kind: RpcErrorKind,
    reason: str,
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """``Message{response{request_id, error}}`` with the error kind in metadata."""
    frame = pb.Message()
    response = frame.response
    response.request_id = request_id
    response.error = reason
    if metadata:
        response.metadata.update(metadata)
    response.metadata[ERROR_KIND_KEY] = kind.value
    return frame.SerializeToString()
