"""Message serializers, compatible with autogen_core's.

A serializer turns one message class into bytes of one content type and back.
Protobuf bytes are a serialized ``google.protobuf.Any`` (as AutoGen's
``ProtobufMessageSerializer`` and the .NET runtime write them); JSON bytes are
protobuf's canonical JSON mapping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, cast

from google.protobuf import any_pb2
from google.protobuf.message import DecodeError, Message

from agentgen.varint import decode_varint, encode_varint

from .errors import SerializationError

__all__ = [
    "JSON_CONTENT_TYPE",
    "PROTOBUF_CONTENT_TYPE",
    "MessageSerializer",
    "ProtobufJsonSerializer",
    "ProtobufSerializer",
    "SerializerRegistry",
    "SerializerTable",
    "UnknownPayload",
    "serializer_table",
    "type_name",
]

JSON_CONTENT_TYPE = "application/json"
PROTOBUF_CONTENT_TYPE = "application/x-protobuf"

_TYPE_URL_PREFIX = "type.googleapis.com/"
"""What ``Any.Pack`` puts before a type's full name (AutoGen and .NET read it)."""

M = TypeVar("M", bound=Message)
T = TypeVar("T")


class MessageSerializer(Protocol[T]):
    """Encodes one message type in one content type."""

    @property
    def type_name(self) -> str:
        """The type name on the wire (``DESCRIPTOR.full_name`` for protobuf)."""
        ...

    @property
    def content_type(self) -> str:
        """The content type it produces and reads."""
        ...

    def serialize(self, message: T) -> bytes:
        """Encode ``message``."""
        ...

    def deserialize(self, data: bytes) -> T:
        """Decode bytes produced by :meth:`serialize` (or a compatible peer)."""
        ...


SerializerTable = Mapping[tuple[str, str], MessageSerializer[Any]]
"""Serializers keyed by ``(type name, content type)``."""


def type_name(message: Message | type[Message]) -> str:
    """The wire type name of a protobuf message (its descriptor's full name)."""
    return message.DESCRIPTOR.full_name


class _ProtobufClassSerializer(Generic[M]):
    """What both encodings of one protobuf message class share."""

    __slots__ = ("_cls", "_type_name")

    def __init__(self, cls: type[M]) -> None:
        self._cls = cls
        self._type_name = cls.DESCRIPTOR.full_name

    @property
    def type_name(self) -> str:
        """The wire type name (the descriptor's full name)."""
        return self._type_name

    @property
    def message_class(self) -> type[M]:
        """The message class this serializer handles."""
        return self._cls


class ProtobufSerializer(_ProtobufClassSerializer[M]):
    """Protobuf encoding: a serialized ``Any`` wrapping the message.

    The ``Any`` bytes are written directly: its ``type_url`` field, always
    the same for one class, then the message's bytes as field 2. This is
    byte for byte what ``Any.Pack`` and ``SerializeToString`` produce, at a
    fraction of their cost (each RPC encodes and decodes two payloads);
    bytes laid out otherwise (another encoder's field order, unknown fields)
    are read by the general ``Any`` parser.
    """

    __slots__ = ("_empty", "_prefix")

    content_type = PROTOBUF_CONTENT_TYPE

    def __init__(self, cls: type[M]) -> None:
        super().__init__(cls)
        url = f"{_TYPE_URL_PREFIX}{self._type_name}".encode()
        # Field 1 (type_url); an empty value (field 2) is not written at all.
        self._empty = b"\x0a" + encode_varint(len(url)) + url
        self._prefix = self._empty + b"\x12"  # then field 2's tag

    def serialize(self, message: M) -> bytes:
        data = message.SerializeToString()
        if not data:
            return self._empty
        return self._prefix + encode_varint(len(data)) + data

    def deserialize(self, data: bytes) -> M:
        if data == self._empty:
            return self._cls()
        prefix = self._prefix
        if data.startswith(prefix):
            try:
                size, start = decode_varint(data, len(prefix), len(data))
            except ValueError:
                size, start = -1, 0
            if start + size == len(data):
                try:
                    return self._cls.FromString(data[start:])
                except DecodeError as error:
                    raise SerializationError(
                        f"cannot decode {self._type_name}: {error}"
                    ) from error
        return self._deserialize_any(data)

    def _deserialize_any(self, data: bytes) -> M:
        packed = any_pb2.Any()
        try:
            packed.ParseFromString(data)
        except DecodeError as error:
            raise SerializationError(
                f"cannot decode {self._type_name}: not a protobuf Any ({error})"
            ) from error
        message = self._cls()
        if not packed.Unpack(message):
            raise SerializationError(
                f"cannot decode {self._type_name}: payload holds {packed.type_url!r}"
            )
        return message


class ProtobufJsonSerializer(_ProtobufClassSerializer[M]):
    """JSON encoding of a protobuf message (what AutoGen Python RPCs use)."""

    __slots__ = ()

    content_type = JSON_CONTENT_TYPE

    # json_format is imported on first use: it costs several milliseconds of
    # a worker's cold start, and only JSON payloads need it.

    def serialize(self, message: M) -> bytes:
        from google.protobuf import json_format

        return json_format.MessageToJson(message, indent=None).encode()

    def deserialize(self, data: bytes) -> M:
        from google.protobuf import json_format

        message = self._cls()
        try:
            json_format.Parse(data, message, ignore_unknown_fields=True)
        except (json_format.ParseError, UnicodeDecodeError) as error:
            raise SerializationError(
                f"cannot decode {self._type_name} from JSON: {error}"
            ) from error
        return message


def serializer_table(*classes: type[Message]) -> dict[tuple[str, str], Any]:
    """Protobuf and JSON serializers for each message class, keyed for lookup."""
    table: dict[tuple[str, str], Any] = {}
    for cls in classes:
        for serializer in (ProtobufSerializer(cls), ProtobufJsonSerializer(cls)):
            table[(serializer.type_name, serializer.content_type)] = serializer
    return table


class UnknownPayload(NamedTuple):
    """A payload no registered serializer can decode.

    (A named tuple, not a frozen dataclass: a tenth of the cost at import.)
    """

    type_name: str
    content_type: str
    data: bytes


class SerializerRegistry:
    """Every serializer a runtime knows, by type name and content type."""

    __slots__ = ("_by_key",)

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], MessageSerializer[Any]] = {}

    def add(
        self,
        serializers: (
            SerializerTable | Iterable[MessageSerializer[Any]] | MessageSerializer[Any]
        ),
    ) -> None:
        """Add serializers (a table, several, or one); later ones win."""
        if isinstance(serializers, Mapping):
            self._by_key.update(serializers)
            return
        items: Iterable[MessageSerializer[Any]] = (
            [cast("MessageSerializer[Any]", serializers)]
            if hasattr(serializers, "serialize")
            else serializers
        )
        for serializer in items:
            self._by_key[(serializer.type_name, serializer.content_type)] = serializer

    def add_classes(self, *classes: type[Message]) -> None:
        """Add protobuf and JSON serializers for each protobuf message class."""
        for cls in classes:
            if (cls.DESCRIPTOR.full_name, PROTOBUF_CONTENT_TYPE) not in self._by_key:
                self._by_key.update(serializer_table(cls))

    def get(self, type_name: str, content_type: str) -> MessageSerializer[Any] | None:
        """The serializer for this pair, if any."""
        return self._by_key.get((type_name, content_type))

    def knows(self, type_name: str, content_type: str) -> bool:
        """Whether a serializer is registered for this pair."""
        return (type_name, content_type) in self._by_key

    def serialize(self, message: Any, content_type: str) -> tuple[str, bytes]:
        """Encode ``message``; returns ``(type name, bytes)``."""
        name = (
            message.DESCRIPTOR.full_name
            if isinstance(message, Message)
            else type(message).__name__
        )
        serializer = self._by_key.get((name, content_type))
        if serializer is None:
            if isinstance(message, Message):
                self.add_classes(type(message))
                serializer = self._by_key[(name, content_type)]
            else:
                raise SerializationError(
                    f"no serializer for type {name!r} with content type "
                    f"{content_type!r}"
                )
        return name, serializer.serialize(message)

    def deserialize(self, type_name: str, content_type: str, data: bytes) -> Any:
        """Decode a payload; :class:`UnknownPayload` when no serializer knows it."""
        serializer = self._by_key.get((type_name, content_type))
        if serializer is None:
            return UnknownPayload(type_name, content_type, data)
        return serializer.deserialize(data)
