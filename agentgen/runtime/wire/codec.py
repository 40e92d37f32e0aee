"""Message payloads in AutoGen's encodings: RPC payloads and CloudEvent frames.

Events are CloudEvents as AutoGen writes them (reference §3): protobuf
messages travel as ``proto_data`` (an ``Any``) with ``datacontenttype``
``application/x-protobuf`` and ``dataschema`` = the descriptor's full name;
other messages as JSON in ``binary_data``. RPC payloads are ``agents.Payload``
whose ``data`` is JSON or a serialized ``Any`` (what AutoGen Python and .NET
send). Decoding accepts every form either side writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from google.protobuf import descriptor_pool, empty_pb2, message_factory
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.message import DecodeError, Message

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2

from ..errors import SerializationError
from ..ids import AgentId, TopicId
from ..log_text import clip
from ..serialization import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    ProtobufSerializer,
    SerializerRegistry,
    UnknownPayload,
)
from .frames import (
    CONTENT_TYPE_ATTRIBUTE,
    MESSAGE_KIND_ATTRIBUTE,
    PUBLISH_KIND,
    SCHEMA_ATTRIBUTE,
    SENDER_KEY_ATTRIBUTE,
    SENDER_TYPE_ATTRIBUTE,
    SPEC_VERSION,
    TRACE_PARENT,
    TRACE_STATE,
    UNKNOWN_SENDER,
    MalformedFrameError,
)
from .size_limits import check_payload_size

__all__ = ["PayloadCodec"]

_CLASS_CACHE_LIMIT: Final = 10_000


class PayloadCodec:
    """Encodes and decodes message payloads with a runtime's serializers.

    Protobuf types need no registration to be decoded: a type missing from
    the registry is looked up in the default descriptor pool (any imported
    ``_pb2`` module) and registered.
    """

    __slots__ = ("_classes", "_max_message_size", "_serializers")

    def __init__(self, serializers: SerializerRegistry, max_message_size: int) -> None:
        self._serializers = serializers
        self._max_message_size = max_message_size
        self._classes: dict[str, type[Message] | None] = {}

    @property
    def max_message_size(self) -> int:
        """The largest payload, in bytes, this codec encodes."""
        return self._max_message_size

    # Encoding ---------------------------------------------------------------

    def encode(self, message: Any, content_type: str) -> tuple[str, bytes]:
        """``(type name, payload bytes)`` of ``message`` in ``content_type``.

        ``None`` (the reply of an Empty handler) is sent as
        ``google.protobuf.Empty``.
        """
        if message is None:
            message = empty_pb2.Empty()
        name, data = self._serializers.serialize(message, content_type)
        if len(data) > self._max_message_size:  # described only when too large
            check_payload_size(len(data), self._max_message_size, _describe(message))
        return name, data

    def event_frame(
        self,
        message: Any,
        topic: TopicId,
        sender: AgentId | None,
        message_id: str,
        extra: Mapping[str, str] | None = None,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> bytes:
        """The ``Message{cloudEvent}`` frame publishing ``message`` to ``topic``.

        ``extra`` attributes (as ``ce_string``) are added to AutoGen's;
        ``trace_carrier`` (``traceparent``, ``tracestate``) goes into
        ``ce_string`` attributes, where AutoGen's receivers read it.
        """
        frame = pb.Message()
        event = frame.cloudEvent
        event.id = message_id
        event.source = topic.source
        event.type = topic.type
        event.spec_version = SPEC_VERSION
        attributes = event.attributes
        if isinstance(message, Message):
            event.proto_data.Pack(message)
            size = len(event.proto_data.value)
            if size > self._max_message_size:
                check_payload_size(size, self._max_message_size, _describe(message))
            attributes[CONTENT_TYPE_ATTRIBUTE].ce_string = PROTOBUF_CONTENT_TYPE
            attributes[SCHEMA_ATTRIBUTE].ce_string = message.DESCRIPTOR.full_name
        else:
            name, data = self.encode(message, JSON_CONTENT_TYPE)
            event.binary_data = data
            attributes[CONTENT_TYPE_ATTRIBUTE].ce_string = JSON_CONTENT_TYPE
            attributes[SCHEMA_ATTRIBUTE].ce_string = name
        # Sender attributes only when there is a sender (as .NET does): AutoGen
        # Python receivers then see sender None instead of AgentId("unknown",
        # "unknown"), and .NET receivers see null either way.
        if sender is not None:
            attributes[SENDER_TYPE_ATTRIBUTE].ce_string = sender.type
            attributes[SENDER_KEY_ATTRIBUTE].ce_string = sender.key
        attributes[MESSAGE_KIND_ATTRIBUTE].ce_string = PUBLISH_KIND
        if extra:
            for name, text in extra.items():
                attributes[name].ce_string = text
        if trace_carrier:
            for key in (TRACE_PARENT, TRACE_STATE):
                value = trace_carrier.get(key)
                if value:
                    attributes[key].ce_string = value
        return frame.SerializeToString()

    # Decoding ---------------------------------------------------------------

    def decode(self, type_name: str, content_type: str, data: bytes) -> Any:
        """Decode an RPC payload; :class:`UnknownPayload` for unknown types.

        Raises :class:`SerializationError` when the bytes do not decode.
        """
        if (
            not self._serializers.knows(type_name, content_type)
            and self.message_class(type_name) is None
        ):
            return UnknownPayload(type_name, content_type, data)
        return self._serializers.deserialize(type_name, content_type, data)

    def decode_event(
        self, event: cloudevent_pb2.CloudEvent
    ) -> tuple[Any, TopicId, AgentId | None]:
        """``(message, topic, sender)`` of a received CloudEvent.

        Raises :class:`MalformedFrameError` for an event that cannot be
        delivered (invalid topic, no data, undecodable data).
        """
        try:
            topic = TopicId(event.type, event.source)
        except ValueError:
            raise MalformedFrameError(
                f"event {clip(event.id)!r}: invalid topic type {clip(event.type)!r}"
            ) from None
        attributes = event.attributes
        content_type = _attribute(attributes, CONTENT_TYPE_ATTRIBUTE)
        schema = _attribute(attributes, SCHEMA_ATTRIBUTE)
        data_kind = event.WhichOneof("data")
        try:
            if data_kind == "proto_data":
                message = self._decode_any(event.proto_data, schema)
            elif data_kind in ("binary_data", "text_data"):
                data = (
                    event.binary_data
                    if data_kind == "binary_data"
                    else event.text_data.encode()
                )
                message = self.decode(schema, content_type or JSON_CONTENT_TYPE, data)
            else:
                raise MalformedFrameError(f"event {clip(event.id)!r} carries no data")
        except SerializationError as error:
            # The parser's own text can quote the payload: it stays in the
            # cause, out of the message (which is logged).
            raise MalformedFrameError(
                f"event {clip(event.id)!r}: cannot decode its {clip(schema)!r} "
                f"payload ({clip(content_type or JSON_CONTENT_TYPE)}, "
                f"{event.ByteSize()}-byte event)"
            ) from error
        return message, topic, _sender(attributes)

    def _decode_any(self, packed: AnyMessage, schema: str) -> Any:
        type_name = schema or packed.TypeName()
        serializer = self._serializers.get(type_name, PROTOBUF_CONTENT_TYPE)
        if isinstance(serializer, ProtobufSerializer):
            cls: type[Message] | None = serializer.message_class
        elif serializer is not None:
            return serializer.deserialize(packed.SerializeToString())
        else:
            cls = self.message_class(type_name)
        if cls is None:
            return UnknownPayload(
                type_name, PROTOBUF_CONTENT_TYPE, packed.SerializeToString()
            )
        if packed.TypeName() != cls.DESCRIPTOR.full_name:
            raise SerializationError(
                f"dataschema says {type_name} but proto_data holds {packed.type_url!r}"
            )
        try:
            return cls.FromString(packed.value)
        except DecodeError as error:
            raise SerializationError(f"cannot decode {type_name}: {error}") from None

    def message_class(self, type_name: str) -> type[Message] | None:
        """The protobuf class named ``type_name`` (registering its serializers)."""
        try:
            return self._classes[type_name]
        except KeyError:
            pass
        cls: type[Message] | None
        try:
            descriptor = descriptor_pool.Default().FindMessageTypeByName(type_name)
        except KeyError:
            cls = None
        else:
            cls = message_factory.GetMessageClass(descriptor)
            self._serializers.add_classes(cls)
        if len(self._classes) >= _CLASS_CACHE_LIMIT:  # junk names must not pile up
            self._classes.clear()
        self._classes[type_name] = cls
        return cls


def _describe(message: Any) -> str:
    if isinstance(message, Message):
        return f"message {message.DESCRIPTOR.full_name}"
    return f"message {type(message).__name__}"


def _attribute(attributes: Any, key: str) -> str:
    value = attributes.get(key)
    return "" if value is None else str(value.ce_string)


def _sender(attributes: Any) -> AgentId | None:
    sender_type = _attribute(attributes, SENDER_TYPE_ATTRIBUTE)
    sender_key = _attribute(attributes, SENDER_KEY_ATTRIBUTE)
    if not sender_type or (sender_type, sender_key) == (UNKNOWN_SENDER, UNKNOWN_SENDER):
        return None
    try:
        return AgentId(sender_type, sender_key)
    except ValueError:
        return None
