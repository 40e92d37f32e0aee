"""Fuzzing the worker: hostile events and requests delivered through a real host.

A raw client publishes drawn CloudEvents to topics the worker's agent
subscribes to and sends drawn requests to it. The worker must deliver each
event or refuse it (counted, and logged once with the reason), answer each
request exactly once, raise nothing internally, and keep serving.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from google.protobuf import any_pb2, json_format, wrappers_pb2
from hypothesis import event, given
from hypothesis import strategies as st

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import Agent, MessageContext
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime
from agentgen.runtime.wire.rpc_error_kinds import ERROR_KIND_KEY
from tests.security.hostile import (
    LogRecords,
    RawPeer,
    event_message,
    recorded_logs,
    request_message,
    running_worker,
)

from .frames import cloud_events, requests
from .profile import fuzz_settings

pytestmark = pytest.mark.timeout(120)

WAIT = 10.0
WORKER_LOGGER = "agentgen.runtime.grpc.worker"
RECORDER = "recorder"
TOPIC_TYPES = ("news", "alerts.x", f"{RECORDER}:direct")
SENDER_ATTRIBUTES = ("agagentsendertype", "agagentsenderkey")


@dataclass
class Seen:
    """Message ids the recorder handled, and a way to wait for them."""

    ids: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, message_id: str) -> None:
        self.ids.append(message_id)
        self.changed.set()

    async def wait_for(self, wanted: set[str]) -> None:
        async with asyncio.timeout(WAIT):
            while not wanted <= set(self.ids):
                self.changed.clear()
                await self.changed.wait()


class Recorder(Agent):
    """Takes any message: records its id, answers RPCs with "ok"."""

    AGENT_TYPE: ClassVar[str] = RECORDER
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("news",)
    PREFIX_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("alerts.",)

    def __init__(self, seen: Seen) -> None:
        self.seen = seen

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        self.seen.add(ctx.message_id)
        return wrappers_pb2.StringValue(value="ok") if ctx.is_rpc else None


@dataclass
class Arena:
    host: GrpcHost
    worker: GrpcWorkerRuntime
    attacker: RawPeer
    seen: Seen
    logs: LogRecords
    numbers: itertools.count[int] = field(default_factory=itertools.count)

    def unique(self, kind: str) -> str:
        return f"{kind}-{next(self.numbers)}"

    async def replies(self, request_ids: set[str]) -> dict[str, pb.RpcResponse]:
        """One reply per request id, and no other reply."""
        got: dict[str, pb.RpcResponse] = {}
        async with asyncio.timeout(WAIT):
            while set(got) != request_ids:
                response = (await self.attacker.receive()).response
                assert response.request_id in request_ids, response.request_id
                assert response.request_id not in got, "two replies to one request"
                got[response.request_id] = response
        return got


@pytest.fixture
async def arena() -> AsyncIterator[Arena]:
    seen = Seen()
    with recorded_logs(logging.DEBUG) as logs:
        async with (
            GrpcHost("127.0.0.1:0", rpc_timeout=WAIT) as host,
            running_worker(host.address) as worker,
            RawPeer(host.address) as attacker,
        ):
            await worker.register_agent_class(Recorder, lambda: Recorder(seen))
            yield Arena(host, worker, attacker, seen, logs)


def _without_self_as_sender(message: pb.Message) -> pb.Message:
    """The worker rightly skips events its own recipient sent: leave those out."""
    attributes = message.cloudEvent.attributes
    for key in SENDER_ATTRIBUTES:
        if key in attributes and attributes[key].ce_string == RECORDER:
            del attributes[key]
    return message


@fuzz_settings(ci_examples=60)
@given(
    events=st.lists(
        st.tuples(
            cloud_events(TOPIC_TYPES).map(_without_self_as_sender),
            st.sampled_from(TOPIC_TYPES),
        ),
        max_size=5,
    ),
    calls=st.lists(requests((RECORDER,)), max_size=4),
)
async def test_hostile_events_and_requests_through_a_real_host(
    arena: Arena, events: list[tuple[pb.Message, str]], calls: list[pb.Message]
) -> None:
    worker = arena.worker
    before = worker.counters.snapshot()
    first_record = len(arena.logs.records)
    event_ids = set()
    for message, topic_type in events:
        # Unique ids, and topics the worker subscribes to: this test is about
        # what the worker does with them (the host's fuzz covers the rest).
        message.cloudEvent.id = arena.unique("event")
        message.cloudEvent.type = topic_type
        event_ids.add(message.cloudEvent.id)
        await arena.attacker.send(message)
    request_ids = set()
    for message in calls:
        message.request.request_id = arena.unique("request")
        request_ids.add(message.request.request_id)
        await arena.attacker.send(message)
    replies = await arena.replies(request_ids)

    probe = arena.unique("probe")
    await arena.attacker.send(event_message("news", event_id=probe))
    await arena.seen.wait_for({probe})
    after = worker.counters.snapshot()
    refused_events = after["malformed_frames"] - before["malformed_frames"]
    delivered = event_ids & set(arena.seen.ids)
    assert len(delivered) + refused_events == len(event_ids)
    await arena.seen.wait_for(delivered)
    assert after["internal_errors"] == 0
    assert not arena.attacker.stream_ended.is_set()

    warnings = [
        record.getMessage()
        for record in arena.logs.records[first_record:]
        if record.name == WORKER_LOGGER and record.levelno >= logging.WARNING
    ]
    unknown_types_logged = any(
        "no message class here for type" in text for text in arena.logs.texts()
    )
    for event_id in event_ids - delivered:
        naming = [text for text in warnings if event_id in text]
        assert len(naming) <= 1, naming
        if not naming:  # an unknown type is logged once, for its first event
            assert unknown_types_logged
    for event_id in delivered:
        assert not any(event_id in text for text in warnings)

    served = [reply for reply in replies.values() if not reply.error]
    event(f"events delivered: {bool(delivered)}, refused: {refused_events > 0}")
    event(f"requests served: {bool(served)}, refused: {len(served) < len(replies)}")
    assert all(_text(reply.payload) == "ok" for reply in served)
    assert after["rpc_served"] - before["rpc_served"] == len(served)
    refused_by_worker = [
        reply
        for reply in replies.values()
        if reply.error and not reply.error.startswith("no worker serves")
    ]
    refusal_logs = [
        record
        for record in arena.logs.records[first_record:]
        if record.name == WORKER_LOGGER
        and record.getMessage().startswith("refused request")
    ]
    assert len(refusal_logs) == len(refused_by_worker)
    assert all(reply.metadata[ERROR_KIND_KEY] for reply in refused_by_worker)


async def test_a_valid_request_is_still_served(arena: Arena) -> None:
    request = request_message("plain", RECORDER)
    await arena.attacker.send(request)
    reply = (await arena.replies({"plain"}))["plain"]
    assert reply.payload.data == b'"ok"'


def _text(payload: pb.Payload) -> str:
    """The StringValue a reply payload carries, JSON or a packed Any."""
    value = wrappers_pb2.StringValue()
    if payload.data_content_type == "application/x-protobuf":
        packed = any_pb2.Any.FromString(payload.data)
        assert packed.Unpack(value), packed.type_url
    else:
        json_format.Parse(payload.data, value)
    return value.value
