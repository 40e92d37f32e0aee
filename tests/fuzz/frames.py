"""Hypothesis strategies for hostile ``agents.Message`` frames and their parts.

Everything a peer controls on the wire is drawn: ids, topic types and
sources, CloudEvent attributes (wrong kinds, unknown keys, huge maps), data
in every form with any content type and schema, RPC targets and payloads,
replies to made-up requests, junk bytes and valid frames with bytes flipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import any_pb2, timestamp_pb2, wrappers_pb2
from hypothesis import strategies as st

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2

__all__ = [
    "attribute_maps",
    "cloud_events",
    "hostile_frames",
    "requests",
    "responses",
]

AttributeValue = cloudevent_pb2.CloudEvent.CloudEventAttributeValue

TEXT = st.text(max_size=24)
NAME_LIKE = st.from_regex(r"[A-Za-z0-9_\-.:=]{1,16}", fullmatch=True)
KNOWN_ATTRIBUTES = (
    "datacontenttype",
    "dataschema",
    "agagentsendertype",
    "agagentsenderkey",
    "agmsgkind",
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(["application/json", "application/x-protobuf", "text/plain", ""]),
    TEXT,
)
SCHEMAS = st.one_of(
    st.sampled_from(
        [
            "google.protobuf.StringValue",
            "google.protobuf.Int64Value",
            "google.protobuf.BoolValue",
            "google.protobuf.Timestamp",
            "google.protobuf.Empty",
            "google.protobuf.Struct",
            "agents.Message",
            "no.such.Type",
            "",
        ]
    ),
    TEXT,
)
JSON_LIKE = st.sampled_from(
    [b'"text"', b"42", b"true", b"null", b"{}", b"[]", b'{"value": 1}', b"{", b'"']
)
DATA = st.one_of(
    JSON_LIKE, st.binary(max_size=64), st.binary(min_size=400, max_size=900)
)


@st.composite
def _attribute_values(draw: st.DrawFn) -> AttributeValue:
    value = AttributeValue()
    kind = draw(
        st.sampled_from(
            ["ce_boolean", "ce_integer", "ce_string", "ce_bytes", "ce_uri", "none"]
        )
    )
    if kind == "ce_boolean":
        value.ce_boolean = draw(st.booleans())
    elif kind == "ce_integer":
        value.ce_integer = draw(st.integers(-(2**31), 2**31 - 1))
    elif kind == "ce_bytes":
        value.ce_bytes = draw(st.binary(max_size=32))
    elif kind != "none":
        setattr(value, kind, draw(st.one_of(SCHEMAS, CONTENT_TYPES)))
    return value


def attribute_maps() -> st.SearchStrategy[dict[str, AttributeValue]]:
    """Small maps of known and unknown keys, or one huge map."""
    small = st.dictionaries(
        st.one_of(st.sampled_from(KNOWN_ATTRIBUTES), TEXT),
        _attribute_values(),
        max_size=6,
    )
    huge = st.integers(500, 3000).map(
        lambda size: {
            f"key-{index}": AttributeValue(ce_string="v") for index in range(size)
        }
    )
    return st.one_of(small, small, small, huge)


@st.composite
def _data(draw: st.DrawFn, event: cloudevent_pb2.CloudEvent) -> None:
    form = draw(
        st.sampled_from(["valid", "valid", "binary", "text", "proto", "packed", "none"])
    )
    if form == "valid":  # what agentgen and AutoGen send, so that some get through
        if draw(st.booleans()):
            event.proto_data.Pack(wrappers_pb2.StringValue(value=draw(TEXT)))
            event.attributes["datacontenttype"].ce_string = "application/x-protobuf"
        else:
            event.binary_data = b'"valid"'
            event.attributes["datacontenttype"].ce_string = "application/json"
        event.attributes["dataschema"].ce_string = "google.protobuf.StringValue"
    elif form == "binary":
        event.binary_data = draw(DATA)
    elif form == "text":
        event.text_data = draw(st.text(max_size=64))
    elif form == "proto":
        prefix = draw(st.sampled_from(["type.googleapis.com/", "", "x/"]))
        event.proto_data.type_url = prefix + draw(SCHEMAS)
        event.proto_data.value = draw(DATA)
    elif form == "packed":
        event.proto_data.Pack(
            draw(
                st.sampled_from(
                    [
                        wrappers_pb2.StringValue(value="packed"),
                        wrappers_pb2.Int64Value(value=7),
                        timestamp_pb2.Timestamp(seconds=1),
                        any_pb2.Any(),
                    ]
                )
            )
        )


@st.composite
def cloud_events(
    draw: st.DrawFn,
    topic_types: Sequence[str],
    event_id: st.SearchStrategy[str] = TEXT,
) -> pb.Message:
    """A ``Message{cloudEvent}``: topic types from ``topic_types`` or anything."""
    message = pb.Message()
    event = message.cloudEvent
    event.id = draw(event_id)
    event.type = draw(st.one_of(st.sampled_from(list(topic_types)), NAME_LIKE, TEXT))
    event.source = draw(st.one_of(st.just("default"), NAME_LIKE, TEXT))
    event.spec_version = draw(st.sampled_from(["1.0", "", "0.3"]))
    for key, value in draw(attribute_maps()).items():
        event.attributes[key].CopyFrom(value)
    if draw(st.booleans()):
        event.attributes["datacontenttype"].ce_string = draw(CONTENT_TYPES)
        event.attributes["dataschema"].ce_string = draw(SCHEMAS)
    draw(_data(event))
    return message


def _agent_id(draw: st.DrawFn, target: pb.AgentId, types: Sequence[str]) -> None:
    target.type = draw(st.one_of(st.sampled_from(list(types)), NAME_LIKE, TEXT))
    target.key = draw(st.one_of(st.just("k"), TEXT))


def _payload(draw: st.DrawFn, payload: pb.Payload) -> None:
    payload.data_type = draw(SCHEMAS)
    payload.data_content_type = draw(CONTENT_TYPES)
    payload.data = draw(DATA)
    form = draw(st.sampled_from(["json", "protobuf", "drawn", "drawn"]))
    if form == "json":
        payload.data_type = "google.protobuf.StringValue"
        payload.data_content_type = "application/json"
        payload.data = b'"valid"'
    elif form == "protobuf":
        packed = any_pb2.Any()
        packed.Pack(wrappers_pb2.StringValue(value="valid"))
        payload.data_type = "google.protobuf.StringValue"
        payload.data_content_type = "application/x-protobuf"
        payload.data = packed.SerializeToString()


@st.composite
def requests(
    draw: st.DrawFn,
    target_types: Sequence[str],
    request_id: st.SearchStrategy[str] = TEXT,
) -> pb.Message:
    """A ``Message{request}`` to one of ``target_types`` or any agent id."""
    message = pb.Message()
    request = message.request
    request.request_id = draw(request_id)
    _agent_id(draw, request.target, target_types)
    if draw(st.booleans()):
        _agent_id(draw, request.source, target_types)
    _payload(draw, request.payload)
    for key, value in draw(st.dictionaries(TEXT, TEXT, max_size=3)).items():
        request.metadata[key] = value
    return message


@st.composite
def responses(draw: st.DrawFn) -> pb.Message:
    """A ``Message{response}`` to a request nobody made."""
    message = pb.Message()
    response = message.response
    response.request_id = draw(TEXT)
    if draw(st.booleans()):
        _payload(draw, response.payload)
    else:
        response.error = draw(TEXT)
    for key, value in draw(st.dictionaries(TEXT, TEXT, max_size=3)).items():
        response.metadata[key] = value
    return message


@st.composite
def _mutated(draw: st.DrawFn, frames: st.SearchStrategy[bytes]) -> bytes:
    """A valid frame with one byte changed, or cut short."""
    frame = bytearray(draw(frames))
    if not frame:
        return bytes(frame)
    index = draw(st.integers(0, len(frame) - 1))
    if draw(st.booleans()):
        frame[index] = draw(st.integers(0, 255))
        return bytes(frame)
    return bytes(frame[:index])


def hostile_frames(
    topic_types: Sequence[str], target_types: Sequence[str]
) -> st.SearchStrategy[bytes]:
    """Serialized frames of every kind, valid or not, and junk bytes."""
    messages = st.one_of(
        cloud_events(topic_types),
        requests(target_types),
        responses(),
        st.just(pb.Message()),
    ).map(lambda message: message.SerializeToString())
    return st.one_of(messages, messages, _mutated(messages), st.binary(max_size=128))
