"""ProtobufSerializer writes the bytes Any.Pack would, and reads every Any layout."""

from __future__ import annotations

import pytest
from google.protobuf import any_pb2, empty_pb2, struct_pb2, wrappers_pb2
from google.protobuf.message import Message

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.errors import SerializationError
from agentgen.runtime.serialization import ProtobufSerializer

MESSAGES: list[Message] = [
    empty_pb2.Empty(),
    wrappers_pb2.StringValue(),  # all defaults: no value field at all
    wrappers_pb2.StringValue(value="hé"),
    wrappers_pb2.BytesValue(value=b"x" * 127),  # one-byte length
    wrappers_pb2.BytesValue(value=b"x" * 128),  # two-byte length
    wrappers_pb2.BytesValue(value=bytes(range(256)) * 300),  # three bytes
    pb.RpcRequest(request_id="r1", target=pb.AgentId(type="a", key="k")),
    struct_pb2.Struct(fields={"k": struct_pb2.Value(string_value="v")}),
]


def packed(message: Message) -> bytes:
    wrapper = any_pb2.Any()
    wrapper.Pack(message)
    return wrapper.SerializeToString()


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_serialize_writes_exactly_what_any_pack_writes(message: Message) -> None:
    serializer = ProtobufSerializer(type(message))
    data = serializer.serialize(message)
    assert data == packed(message)
    assert serializer.deserialize(data) == message


def test_other_layouts_of_an_any_are_read_too() -> None:
    message = wrappers_pb2.StringValue(value="v")
    serializer = ProtobufSerializer(wrappers_pb2.StringValue)
    url = b"type.googleapis.com/google.protobuf.StringValue"
    value = message.SerializeToString()
    value_first = (
        b"\x12" + bytes([len(value)]) + value + b"\x0a" + bytes([len(url)]) + url
    )
    with_unknown_field = packed(message) + b"\x18\x01"  # field 3, a varint
    for data in (value_first, with_unknown_field):
        assert serializer.deserialize(data) == message


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (packed(wrappers_pb2.Int32Value(value=1)), "payload holds"),  # another type
        (b"\xff\xff", "not a protobuf Any"),
        # The right type_url, then a value whose length runs past the end.
        (packed(wrappers_pb2.StringValue(value="abc"))[:-1], "StringValue"),
    ],
)
def test_bytes_that_are_not_this_type_raise_serialization_error(
    data: bytes, error: str
) -> None:
    with pytest.raises(SerializationError, match=error):
        ProtobufSerializer(wrappers_pb2.StringValue).deserialize(data)


def test_a_value_that_does_not_parse_raises_serialization_error() -> None:
    url = b"type.googleapis.com/google.protobuf.StringValue"
    data = b"\x0a" + bytes([len(url)]) + url + b"\x12\x03\x0a\x05a"
    with pytest.raises(SerializationError, match="cannot decode"):
        ProtobufSerializer(wrappers_pb2.StringValue).deserialize(data)
