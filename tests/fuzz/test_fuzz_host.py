"""Fuzzing the host: hostile frames and registration calls from a raw client.

All examples of a test share one host, so each must leave it serving: after
every example an event and an RPC go through, the attacker's stream is still
open, nothing raised inside the host, and every rejected frame was counted
and logged exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.protobuf.message import DecodeError, Message
from hypothesis import given
from hypothesis import strategies as st

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc import GrpcHost
from agentgen.runtime.grpc.protocol import service
from agentgen.runtime.ids import is_valid_topic_type
from tests.security.hostile import (
    RawPeer,
    event_message,
    recorded_logs,
    request_message,
)

from .frames import TEXT, hostile_frames
from .profile import fuzz_settings

pytestmark = pytest.mark.timeout(120)

MAX_MESSAGE_SIZE = 512
"""Small, so that drawn payloads can exceed it."""
WAIT = 10.0
HOST_LOGGER = "agentgen.runtime.grpc.host"
LISTENER_TYPE = "listener"
PROBE_TOPIC = "probe"
TOPIC_TYPES = (PROBE_TOPIC, "news", "listener:direct", "unrouted")
ALLOWED_REGISTRATION_CODES = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


@dataclass
class Arena:
    """A host, a listener that answers every request, an attacker, a caller."""

    host: GrpcHost
    listener: RawPeer
    attacker: RawPeer
    caller: RawPeer
    listener_subscriptions: set[str]
    events: asyncio.Queue[pb.Message] = field(default_factory=asyncio.Queue)
    probes: itertools.count[int] = field(default_factory=itertools.count)

    async def answer_requests(self) -> None:
        """The listener's side: reply to each request, keep each event."""
        while True:
            message = await self.listener.receive(timeout=3600)
            if message.HasField("request"):
                reply = pb.Message()
                reply.response.request_id = message.request.request_id
                reply.response.payload.data = b'"pong"'
                await self.listener.send(reply)
            else:
                await self.events.put(message)

    async def check_still_serving(self) -> None:
        """An event from the attacker and an RPC from the caller go through."""
        probe_id = f"probe-{next(self.probes)}"
        await self.attacker.send(event_message(PROBE_TOPIC, event_id=probe_id))
        async with asyncio.timeout(WAIT):
            while (await self.events.get()).cloudEvent.id != probe_id:
                pass  # the attacker's own events on the probe topic
        await self.caller.send(request_message(probe_id, LISTENER_TYPE))
        async with asyncio.timeout(WAIT):
            while (reply := (await self.caller.receive()).response).request_id != (
                probe_id
            ):
                pass
        assert reply.payload.data == b'"pong"'
        assert not self.attacker.stream_ended.is_set()
        assert self.host.counters.internal_errors == 0
        assert self.host.agent_types.get(LISTENER_TYPE) == self.listener.client_id
        listed = await self.caller.unary(
            service.GET_SUBSCRIPTIONS,
            pb.GetSubscriptionsRequest(),
            pb.GetSubscriptionsResponse,
        )
        assert self.listener_subscriptions <= {s.id for s in listed.subscriptions}
        while not self.attacker.frames.empty():  # replies to the attacker's junk
            self.attacker.frames.get_nowait()


@pytest.fixture
async def arena() -> AsyncIterator[Arena]:
    async with (
        GrpcHost(
            "127.0.0.1:0",
            max_message_size=MAX_MESSAGE_SIZE,
            rpc_timeout=WAIT,
            hold_unrouted=0.5,
        ) as host,
        RawPeer(host.address) as listener,
        RawPeer(host.address) as attacker,
        RawPeer(host.address) as caller,
    ):
        await listener.register(LISTENER_TYPE)
        subscriptions = {
            await listener.subscribe(PROBE_TOPIC, LISTENER_TYPE),
            await listener.subscribe("news", LISTENER_TYPE),
            await listener.subscribe("listener:", LISTENER_TYPE, prefix=True),
        }
        arena = Arena(host, listener, attacker, caller, subscriptions)
        answering = asyncio.create_task(arena.answer_requests())
        try:
            yield arena
        finally:
            answering.cancel()
            await asyncio.gather(answering, return_exceptions=True)


def _payload_size(message: pb.Message) -> int:
    kind = message.WhichOneof("message")
    if kind == "request":
        return len(message.request.payload.data)
    if kind == "response":
        return len(message.response.payload.data)
    event = message.cloudEvent
    data = event.WhichOneof("data")
    if data == "proto_data":
        return len(event.proto_data.value)
    if data == "text_data":
        return len(event.text_data.encode())
    return len(event.binary_data)


def expected_rejection(frame: bytes) -> str | None:
    """Why the host must refuse ``frame`` (per its documented rules), or None."""
    try:
        message = pb.Message.FromString(frame)
    except DecodeError:
        return "malformed_frames"
    kind = message.WhichOneof("message")
    if kind is None:
        return "unknown_frames"
    if _payload_size(message) > MAX_MESSAGE_SIZE:
        return "oversized_frames"
    if kind == "cloudEvent" and not is_valid_topic_type(message.cloudEvent.type):
        return "malformed_frames"
    return None


@fuzz_settings(ci_examples=100)
@given(
    frames=st.lists(
        hostile_frames(TOPIC_TYPES, (LISTENER_TYPE, "nobody")), min_size=1, max_size=6
    )
)
async def test_hostile_frames_are_refused_counted_and_logged_once(
    arena: Arena, frames: list[bytes]
) -> None:
    before = arena.host.counters.snapshot()
    with recorded_logs(logging.DEBUG) as logs:
        for frame in frames:
            await arena.attacker.send_raw(frame)
        await arena.check_still_serving()
    after = arena.host.counters.snapshot()
    expected = Counter(
        reason for reason in map(expected_rejection, frames) if reason is not None
    )
    for reason in ("malformed_frames", "unknown_frames", "oversized_frames"):
        assert after[reason] - before[reason] == expected[reason], reason
    warnings = [
        record
        for record in logs.records
        if record.name == HOST_LOGGER and record.levelno >= logging.WARNING
    ]
    assert len(warnings) == sum(expected.values()), [r.getMessage() for r in warnings]
    assert all(arena.attacker.client_id in r.getMessage() for r in warnings)


@st.composite
def _registration_calls(draw: st.DrawFn) -> tuple[str, bytes]:
    method = draw(
        st.sampled_from(
            [
                service.REGISTER_AGENT,
                service.ADD_SUBSCRIPTION,
                service.REMOVE_SUBSCRIPTION,
                service.GET_SUBSCRIPTIONS,
            ]
        )
    )
    names = st.one_of(st.sampled_from([LISTENER_TYPE, PROBE_TOPIC, "mine"]), TEXT)
    request: Message
    if method == service.REGISTER_AGENT:
        request = pb.RegisterAgentTypeRequest(type=draw(names))
    elif method == service.ADD_SUBSCRIPTION:
        subscription = pb.Subscription(id=draw(st.one_of(st.just(""), TEXT)))
        kind = draw(st.sampled_from(["type", "prefix", "none"]))
        if kind == "type":
            subscription.typeSubscription.topic_type = draw(names)
            subscription.typeSubscription.agent_type = draw(names)
        elif kind == "prefix":
            subscription.typePrefixSubscription.topic_type_prefix = draw(names)
            subscription.typePrefixSubscription.agent_type = draw(names)
        request = pb.AddSubscriptionRequest(subscription=subscription)
    elif method == service.REMOVE_SUBSCRIPTION:
        request = pb.RemoveSubscriptionRequest(id=draw(TEXT))
    else:
        request = pb.GetSubscriptionsRequest()
    body = request.SerializeToString()
    if draw(st.integers(0, 4)) == 0:
        body = draw(st.binary(min_size=1, max_size=64))
    return method, body


@fuzz_settings(ci_examples=60)
@given(calls=st.lists(_registration_calls(), min_size=1, max_size=5))
async def test_registration_calls_get_a_status_never_an_internal_error(
    arena: Arena, calls: list[tuple[str, bytes]]
) -> None:
    before = arena.host.counters.malformed_frames
    undecodable = sum(not _parses(method, body) for method, body in calls)
    with recorded_logs(logging.WARNING) as logs:
        for method, body in calls:
            call = arena.attacker.channel.unary_unary(
                service.method_path(method), None, None
            )
            try:
                await call(body, metadata=arena.attacker.metadata, timeout=WAIT)
                code = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as error:
                code = error.code()
            assert code in ALLOWED_REGISTRATION_CODES, (method, code)
    assert arena.host.counters.malformed_frames - before == undecodable
    assert len(logs.matching("the request is not a valid")) == undecodable
    await arena.check_still_serving()


_REQUEST_TYPES: dict[str, type[Message]] = {
    service.REGISTER_AGENT: pb.RegisterAgentTypeRequest,
    service.ADD_SUBSCRIPTION: pb.AddSubscriptionRequest,
    service.REMOVE_SUBSCRIPTION: pb.RemoveSubscriptionRequest,
    service.GET_SUBSCRIPTIONS: pb.GetSubscriptionsRequest,
}


def _parses(method: str, body: bytes) -> bool:
    try:
        _REQUEST_TYPES[method].FromString(body)
    except DecodeError:
        return False
    return True
