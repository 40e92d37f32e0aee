"""Reading a received RpcRequest (``wire.requests``), whatever carried it."""

from __future__ import annotations

import pytest
from google.protobuf import wrappers_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import PROTOBUF_CONTENT_TYPE, AgentId, SerializerRegistry
from agentgen.runtime.serialization import JSON_CONTENT_TYPE
from agentgen.runtime.wire.codec import PayloadCodec
from agentgen.runtime.wire.requests import (
    RefusedRequest,
    reply_content_type,
    request_message,
    request_sender,
    request_target,
)
from agentgen.runtime.wire.rpc_error_kinds import RpcErrorKind

CODEC = PayloadCodec(SerializerRegistry(), 1 << 20)


def request(data_type: str, content_type: str, data: bytes) -> pb.RpcRequest:
    wire = pb.RpcRequest(request_id="r1", target=pb.AgentId(type="echo", key="k"))
    wire.payload.data_type = data_type
    wire.payload.data_content_type = content_type
    wire.payload.data = data
    return wire


def test_a_request_gives_its_target_message_and_sender() -> None:
    name, data = CODEC.encode(wrappers_pb2.StringValue(value="hi"), JSON_CONTENT_TYPE)
    wire = request(name, JSON_CONTENT_TYPE, data)
    target = request_target(wire)
    assert target == AgentId("echo", "k")
    assert request_message(CODEC, wire, target) == wrappers_pb2.StringValue(value="hi")
    assert request_sender(wire) is None
    wire.source.type, wire.source.key = "caller", "c1"
    assert request_sender(wire) == AgentId("caller", "c1")
    wire.source.type = "not a type"  # only reported to the handler: dropped
    assert request_sender(wire) is None


def test_the_reply_goes_in_the_requests_encoding_or_the_default() -> None:
    assert reply_content_type(request("t", JSON_CONTENT_TYPE, b""), "x") == (
        JSON_CONTENT_TYPE
    )
    assert reply_content_type(
        request("t", "text/weird", b""), PROTOBUF_CONTENT_TYPE
    ) == (PROTOBUF_CONTENT_TYPE)


@pytest.mark.parametrize(
    ("wire", "kind", "reason"),
    [
        (
            request("google.protobuf.StringValue", PROTOBUF_CONTENT_TYPE, b"\xff"),
            RpcErrorKind.UNDECODABLE,
            "StringValue",
        ),
        (
            request("nobody.Knows", PROTOBUF_CONTENT_TYPE, b""),
            RpcErrorKind.UNDECODABLE,
            "cannot decode nobody.Knows",
        ),
    ],
)
def test_undecodable_payloads_are_refused(
    wire: pb.RpcRequest, kind: RpcErrorKind, reason: str
) -> None:
    with pytest.raises(RefusedRequest, match=reason) as refused:
        request_message(CODEC, wire, request_target(wire))
    assert refused.value.kind is kind


def test_an_invalid_target_is_refused_as_undeliverable() -> None:
    wire = request("t", JSON_CONTENT_TYPE, b"")
    wire.target.type = "a b"
    with pytest.raises(RefusedRequest, match="invalid target") as refused:
        request_target(wire)
    assert refused.value.kind is RpcErrorKind.UNDELIVERABLE
