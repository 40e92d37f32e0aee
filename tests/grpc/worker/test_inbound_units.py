"""A worker's Inbound without gRPC: frames in, agents and reply streams out.

The agents are real (a started InProcessRuntime gives ``local`` and
``subscription_table``); the streams are :class:`RecordingStream`, which
keeps what would be written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from google.protobuf import any_pb2, wrappers_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    AgentId,
    InProcessRuntime,
    TopicId,
)
from agentgen.runtime.grpc.worker.counters import WorkerCounters
from agentgen.runtime.grpc.worker.inbound import Inbound
from agentgen.runtime.grpc.worker.pending_calls import PendingCalls
from agentgen.runtime.grpc.worker.stream import Outgoing
from agentgen.runtime.wire.codec import PayloadCodec
from agentgen.runtime.wire.frames import mark_resent, request_frame
from agentgen.runtime.wire.rpc_error_kinds import ERROR_KIND_KEY, RpcErrorKind
from tests.support.agents import Arrivals, Collector, register_collector
from tests.support.grpc_harness import (
    bounded,
    event_message,
    response_message,
    settle,
    wait_until,
)

LIMIT = 1024
"""The codec's max_message_size: replies over it fail as too large."""
BACKLOG = 10


@dataclass
class RecordingStream:
    """A :class:`~agentgen.runtime.grpc.worker.inbound.ReplyStream` that records."""

    client_id: str = "worker-1"
    sent: list[Outgoing] = field(default_factory=list)

    def send_now(self, item: Outgoing) -> bool:
        self.sent.append(item)
        return True

    async def responses(self, count: int) -> list[pb.RpcResponse]:
        """Wait until ``count`` frames were sent; they are all responses."""
        await wait_until(lambda: len(self.sent) >= count, f"{count} replies")
        assert not any(item.is_event for item in self.sent)
        return [pb.Message.FromString(item.frame).response for item in self.sent]


@dataclass
class Intake:
    """An Inbound over a started runtime's agents, and what it works with."""

    runtime: InProcessRuntime
    arrivals: Arrivals
    codec: PayloadCodec
    pending: PendingCalls
    counters: WorkerCounters
    inbound: Inbound
    stream: RecordingStream

    def feed(self, frame: bytes) -> None:
        """Hand ``frame`` to the Inbound as received on :attr:`stream`."""
        self.inbound.handle(self.stream, frame)

    def event(
        self, message: Any, topic: TopicId, sender: AgentId | None, event_id: str
    ) -> bytes:
        """An event frame as a publishing worker encodes it."""
        return self.codec.event_frame(message, topic, sender, event_id)

    def request(
        self, request_id: str, message: Any, target: AgentId, content_type: str
    ) -> bytes:
        """A request frame as a calling worker encodes it, in ``content_type``."""
        type_name, data = self.codec.encode(message, content_type)
        return request_frame(request_id, target, None, type_name, content_type, data)


@pytest.fixture
async def intake() -> AsyncIterator[Intake]:
    runtime = InProcessRuntime(backlog_limit=BACKLOG)
    await runtime.start()
    arrivals = Arrivals()
    await register_collector(runtime, arrivals)
    codec = PayloadCodec(runtime.serializers, LIMIT)
    pending = PendingCalls()
    counters = WorkerCounters()
    inbound = Inbound(
        runtime.local, runtime.subscription_table, codec, pending, counters
    )
    yield Intake(
        runtime, arrivals, codec, pending, counters, inbound, RecordingStream()
    )
    await runtime.stop()


def text(value: str) -> wrappers_pb2.StringValue:
    return wrappers_pb2.StringValue(value=value)


async def test_events_reach_the_subscribed_agents_but_not_their_sender(
    intake: Intake,
) -> None:
    me = AgentId("collector", "k1")
    other = AgentId("somebody", "s1")
    intake.feed(intake.event(text("mine"), TopicId("news", "k1"), me, "e1"))
    intake.feed(intake.event(text("theirs"), TopicId("news", "k1"), other, "e2"))
    intake.feed(intake.event(text("prefixed"), TopicId("alerts.x", "k2"), None, "e3"))
    intake.feed(intake.event(text("nobody"), TopicId("elsewhere", "k1"), None, "e4"))
    assert sorted(await intake.arrivals.wait_for(2)) == ["prefixed", "theirs"]
    by_value = {value: (key, ctx) for key, value, ctx in intake.arrivals.items}
    key, ctx = by_value["theirs"]
    assert (key, ctx.sender, ctx.message_id) == ("k1", other, "e2")
    assert (ctx.topic_id, ctx.is_rpc) == (TopicId("news", "k1"), False)
    assert by_value["prefixed"][0] == "k2"
    await intake.runtime.stop_when_idle()
    assert sorted(intake.arrivals.values()) == ["prefixed", "theirs"]
    assert intake.counters.events_received == 4
    assert intake.counters.events_delivered == 2
    assert intake.stream.sent == []


async def test_an_event_resent_after_a_reconnection_is_dropped_if_seen(
    intake: Intake,
) -> None:
    topic = TopicId("news", "k")
    first = intake.event(text("first"), topic, None, "e1")
    intake.feed(first)
    intake.feed(mark_resent(first))  # seen: dropped
    intake.feed(intake.event(text("reused id"), topic, None, "e1"))  # not resent
    intake.feed(mark_resent(intake.event(text("new"), topic, None, "e2")))
    await intake.runtime.stop_when_idle()
    assert intake.arrivals.values() == ["first", "reused id", "new"]
    assert intake.counters.duplicate_events == 1


async def test_unknown_payload_types_are_counted_and_logged_once_per_type(
    intake: Intake, caplog: pytest.LogCaptureFixture
) -> None:
    unknown = [("u1", "nobody.Knows"), ("u2", "nobody.Knows"), ("u3", "other.Type")]
    with caplog.at_level(logging.WARNING, logger="agentgen.runtime.grpc.worker"):
        for event_id, schema in unknown:
            event = event_message("news", "k", event_id=event_id)
            event.cloudEvent.attributes["dataschema"].ce_string = schema
            intake.feed(event.SerializeToString())
    await intake.runtime.stop_when_idle()
    assert intake.arrivals.values() == []
    assert intake.counters.events_received == 3
    assert intake.counters.malformed_frames == 3
    warned = [
        r.getMessage() for r in caplog.records if "no message class" in r.getMessage()
    ]
    assert len(warned) == 2
    assert "'nobody.Knows'" in warned[0] and "'other.Type'" in warned[1]


async def test_requests_are_answered_on_their_stream_in_their_content_type(
    intake: Intake,
) -> None:
    by_json = RecordingStream("calls")
    by_proto = RecordingStream("serving")
    target = AgentId("collector", "raw")
    json_request = intake.request("json-1", text("a"), target, JSON_CONTENT_TYPE)
    proto_request = intake.request("proto-1", text("b"), target, PROTOBUF_CONTENT_TYPE)
    intake.inbound.handle(by_json, json_request)
    intake.inbound.handle(by_proto, proto_request)
    [json_reply] = await by_json.responses(1)
    [proto_reply] = await by_proto.responses(1)
    assert json_reply.request_id == "json-1"
    assert json_reply.payload.data_content_type == JSON_CONTENT_TYPE
    assert json_reply.payload.data == b'"echo:a"'
    assert proto_reply.request_id == "proto-1"
    assert proto_reply.payload.data_content_type == PROTOBUF_CONTENT_TYPE
    packed = any_pb2.Any.FromString(proto_reply.payload.data)
    unpacked = wrappers_pb2.StringValue()
    assert packed.Unpack(unpacked) and unpacked.value == "echo:b"
    assert (json_reply.error, proto_reply.error) == ("", "")
    assert intake.counters.rpc_served == 2
    assert len(by_json.sent) == len(by_proto.sent) == 1
    assert intake.stream.sent == []


async def test_failed_handlers_are_answered_with_the_kind_of_failure(
    intake: Intake,
) -> None:
    target = AgentId("collector", "k")
    cases: list[tuple[Any, RpcErrorKind, str]] = [
        (text("boom"), RpcErrorKind.HANDLER_RAISED, "ValueError: boom requested"),
        (wrappers_pb2.BoolValue(value=True), RpcErrorKind.BAD_REPLY, "StringValue"),
        (wrappers_pb2.UInt64Value(value=2 * LIMIT), RpcErrorKind.TOO_LARGE, "1024"),
        (wrappers_pb2.Int32Value(value=1), RpcErrorKind.UNHANDLED, "Int32Value"),
    ]
    for index, (message, _, _) in enumerate(cases):
        intake.feed(intake.request(f"r-{index}", message, target, JSON_CONTENT_TYPE))
    replies = await intake.stream.responses(len(cases))
    by_id = {reply.request_id: reply for reply in replies}
    for index, (_, kind, reason) in enumerate(cases):
        reply = by_id[f"r-{index}"]
        assert reply.metadata[ERROR_KIND_KEY] == kind, reply.error
        assert reason in reply.error
        assert not reply.HasField("payload")


async def test_requests_for_types_not_served_here_are_undeliverable(
    intake: Intake,
) -> None:
    for request_id, target_type in (("r-1", "nobody"), ("r-2", "no spaces allowed")):
        request = pb.Message()
        request.request.request_id = request_id
        request.request.target.type = target_type
        request.request.target.key = "k"
        intake.feed(request.SerializeToString())
    first, second = await intake.stream.responses(2)
    assert first.request_id == "r-1"
    assert first.metadata[ERROR_KIND_KEY] == RpcErrorKind.UNDELIVERABLE
    assert "'nobody' is not registered in this worker" in first.error
    assert second.request_id == "r-2"
    assert second.metadata[ERROR_KIND_KEY] == RpcErrorKind.UNDELIVERABLE
    assert "invalid target" in second.error
    assert intake.counters.rpc_served == 0


async def test_payloads_that_do_not_decode_are_answered_undecodable(
    intake: Intake,
) -> None:
    target = AgentId("collector", "k")
    garbage = request_frame(
        "r-1", target, None, "google.protobuf.StringValue", JSON_CONTENT_TYPE, b"{no"
    )
    unknown = request_frame(
        "r-2", target, None, "nobody.Knows", JSON_CONTENT_TYPE, b'"x"'
    )
    intake.feed(garbage)
    intake.feed(unknown)
    first, second = await intake.stream.responses(2)
    assert [first.request_id, second.request_id] == ["r-1", "r-2"]
    for reply in (first, second):
        assert reply.metadata[ERROR_KIND_KEY] == RpcErrorKind.UNDECODABLE
    assert "cannot decode nobody.Knows" in second.error
    assert intake.arrivals.values() == []


async def test_responses_resolve_pending_calls_and_others_are_counted(
    intake: Intake,
) -> None:
    reply = intake.pending.expect("req-1", AgentId("collector", "k"))
    answer = response_message("req-1", b'"done"')
    intake.inbound.on_reply_frame(intake.stream, answer.SerializeToString())
    assert (await bounded(reply)) == answer.response
    for request_id in ("req-1", "req-unknown"):  # answered already; never sent
        late = response_message(request_id).SerializeToString()
        intake.inbound.on_reply_frame(intake.stream, late)
    assert intake.counters.unmatched_replies == 2
    assert intake.stream.sent == []


async def test_malformed_frames_are_counted_and_skipped(intake: Intake) -> None:
    bad_topic = event_message("news", event_id="bad")
    bad_topic.cloudEvent.type = "spaces are not allowed"
    no_data = event_message("news", event_id="empty")
    no_data.cloudEvent.ClearField("proto_data")
    for junk in (
        b"\xff\xff\xff\xff not a protobuf",
        b"",
        bad_topic.SerializeToString(),
        no_data.SerializeToString(),
    ):
        intake.feed(junk)
    intake.feed(intake.event(text("valid"), TopicId("news", "k"), None, "ok"))
    assert await intake.arrivals.wait_for(1) == ["valid"]
    assert intake.counters.malformed_frames == 3
    assert intake.counters.unknown_frames == 1
    assert intake.counters.events_received == 1


async def test_a_full_backlog_gives_the_reader_something_to_wait_on(
    intake: Intake,
) -> None:
    agent = await intake.runtime.get_agent(AgentId("collector", "k"))
    assert isinstance(agent, Collector)
    agent.gate = asyncio.Event()
    topic = TopicId("news", "k")

    def frame(value: int) -> bytes:
        return intake.event(
            wrappers_pb2.Int64Value(value=value), topic, None, f"n{value}"
        )

    assert intake.inbound.on_frame(intake.stream, frame(1)) is None
    backlog = intake.runtime.local.backlog
    await wait_until(lambda: backlog.count == 0, "the agent to take the first")
    for value in range(2, BACKLOG + 1):  # the agent waits on its gate
        assert intake.inbound.on_frame(intake.stream, frame(value)) is None
    pause = intake.inbound.on_frame(intake.stream, frame(BACKLOG + 1))
    assert pause is not None
    assert intake.counters.intake_pauses == 1
    paused = asyncio.ensure_future(pause)
    await settle()  # the backlog stays full
    assert not paused.done()
    agent.gate.set()
    await bounded(paused)
    await intake.runtime.stop_when_idle()
    assert agent.total == sum(range(1, BACKLOG + 2))
