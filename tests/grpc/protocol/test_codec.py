"""The gRPC runtime's building blocks on their own: errors, codec, outbox."""

from __future__ import annotations

import asyncio

import pytest
from google.protobuf import wrappers_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    AgentId,
    MessageTooLargeError,
    RemoteError,
    RpcTimeoutError,
    SerializationError,
    SerializerRegistry,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    UndeliverableError,
    UnexpectedReplyError,
    UnhandledMessageError,
    UnknownPayload,
)
from agentgen.runtime.grpc import ConnectionLostError
from agentgen.runtime.grpc.protocol.codec import PayloadCodec
from agentgen.runtime.grpc.protocol.frames import (
    InvalidSubscriptionError,
    MalformedFrameError,
    subscription_from_wire,
    subscription_to_wire,
)
from agentgen.runtime.grpc.protocol.outbox import Outbox
from agentgen.runtime.grpc.protocol.rpc_error_kinds import (
    ERROR_KIND_KEY,
    RpcErrorKind,
    exception_for_error,
)
from tests.support.grpc_harness import bounded


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (RpcErrorKind.UNDELIVERABLE, UndeliverableError),
        (RpcErrorKind.CONNECTION_LOST, ConnectionLostError),
        (RpcErrorKind.TIMEOUT, RpcTimeoutError),
        (RpcErrorKind.BAD_REPLY, UnexpectedReplyError),
        (RpcErrorKind.UNHANDLED, UnhandledMessageError),
        (RpcErrorKind.TOO_LARGE, MessageTooLargeError),
        (RpcErrorKind.UNENCODABLE, SerializationError),
        (RpcErrorKind.UNDECODABLE, SerializationError),
    ],
)
def test_error_kinds_become_specific_exceptions(
    kind: RpcErrorKind, expected: type[Exception]
) -> None:
    error = exception_for_error("why", {ERROR_KIND_KEY: kind.value})
    assert type(error) is expected
    assert str(error) == "why"


def test_errors_from_autogen_peers_become_remote_errors() -> None:
    plain = exception_for_error("boom! x", {})
    assert isinstance(plain, RemoteError)
    assert (plain.remote_type, plain.remote_message) == ("", "boom! x")
    typed = exception_for_error("ValueError: bad", {ERROR_KIND_KEY: "from-the-future"})
    assert isinstance(typed, RemoteError)
    assert (typed.remote_type, typed.remote_message) == ("ValueError", "bad")


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


def test_subscriptions_round_trip_through_their_wire_form() -> None:
    for subscription in (
        TypeSubscription("news", "agent", id="s1"),
        TypePrefixSubscription("alerts.", "agent", id="s2"),
    ):
        back = subscription_from_wire(subscription_to_wire(subscription))
        assert type(back) is type(subscription)
        assert back.id == subscription.id
        assert back.same_rule(subscription)
    with pytest.raises(InvalidSubscriptionError, match="neither"):
        subscription_from_wire(pb.Subscription(id="empty"))
    bad = pb.Subscription(id="bad")
    bad.typeSubscription.topic_type = "t"
    bad.typeSubscription.agent_type = "no spaces allowed"
    with pytest.raises(InvalidSubscriptionError, match="agent type"):
        subscription_from_wire(bad)


async def test_outbox_bounds_keeps_order_and_closes() -> None:
    outbox = Outbox[int](2)
    assert await outbox.put(1)
    assert await outbox.put(2)
    third = asyncio.create_task(outbox.put(3))
    await asyncio.sleep(0)
    assert not third.done()  # full: the producer waits
    assert await outbox.get() == 1
    assert await bounded(third)
    assert outbox.put_urgent(4)  # past the bound, never waits
    assert [await outbox.get(), await outbox.get(), await outbox.get()] == [2, 3, 4]
    waiting = asyncio.create_task(outbox.get())
    await asyncio.sleep(0)
    outbox.close()
    assert await bounded(waiting) is None
    assert not outbox.put_urgent(5)
    assert not await outbox.put(6)
