"""PayloadCodec: payloads to and from their wire encodings, within the limit."""

from __future__ import annotations

import pytest
from google.protobuf import wrappers_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    AgentId,
    MessageTooLargeError,
    SerializerRegistry,
    TopicId,
    UnknownPayload,
)
from agentgen.runtime.wire.codec import PayloadCodec
from agentgen.runtime.wire.frames import MalformedFrameError


def test_autogen_json_events_decode_into_protobuf_messages() -> None:
    codec = PayloadCodec(SerializerRegistry(), 1024)
    frame = pb.Message()
    event = frame.cloudEvent
    event.id, event.type, event.source = "e1", "news", "src"
    event.binary_data = b'"hello"'
    event.attributes["datacontenttype"].ce_string = JSON_CONTENT_TYPE
    event.attributes["dataschema"].ce_string = "google.protobuf.StringValue"
    event.attributes["agagentsendertype"].ce_string = "pub"
    event.attributes["agagentsenderkey"].ce_string = "p1"
    message, topic, sender = codec.decode_event(event)
    assert message == wrappers_pb2.StringValue(value="hello")
    assert (topic, sender) == (TopicId("news", "src"), AgentId("pub", "p1"))
    event.attributes["dataschema"].ce_string = "nobody.Knows"
    assert isinstance(codec.decode_event(event)[0], UnknownPayload)
    event.type = "not a topic"
    with pytest.raises(MalformedFrameError, match="e1"):
        codec.decode_event(event)


def test_codec_refuses_payloads_over_the_limit() -> None:
    codec = PayloadCodec(SerializerRegistry(), 10)
    with pytest.raises(MessageTooLargeError, match="max_message_size=10"):
        codec.encode(wrappers_pb2.StringValue(value="x" * 11), PROTOBUF_CONTENT_TYPE)
    with pytest.raises(MessageTooLargeError):
        codec.event_frame(
            wrappers_pb2.StringValue(value="x" * 11), TopicId("t"), None, "id"
        )
    name, data = codec.encode(None, JSON_CONTENT_TYPE)
    assert (name, data) == ("google.protobuf.Empty", b"{}")
