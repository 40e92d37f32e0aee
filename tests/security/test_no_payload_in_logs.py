"""With DEBUG logging on, hostile traffic never puts a payload into a log record.

Every payload-carrying field of every frame kind holds a marker; identifiers
are 100,000 characters long. No record may contain the marker, and every
record stays short.
"""

from __future__ import annotations

import logging

import pytest
from google.protobuf import wrappers_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import TopicId
from agentgen.runtime.grpc import GrpcHost

from .hostile import (
    Arrivals,
    Collector,
    RawPeer,
    event_message,
    recorded_logs,
    request_message,
    running_worker,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)

MARKER = "PAYLOAD-7c1e-MARKER"
LONG_ID = "i" * 100_000
LONGEST_RECORD = 2_000
"""Longest log message allowed: ids are clipped, payloads never included."""
LIMIT = 64 * 1024


def _json_event(topic: str, schema: str, data: bytes) -> pb.Message:
    message = event_message(topic)
    event = message.cloudEvent
    event.binary_data = data
    event.attributes["datacontenttype"].ce_string = "application/json"
    event.attributes["dataschema"].ce_string = schema
    event.attributes["secret-attribute"].ce_string = MARKER
    return message


def _hostile_frames() -> list[bytes]:
    """Frames that the host or the worker must refuse, each carrying MARKER."""
    marker = MARKER.encode()
    frames: list[pb.Message] = []
    # Undecodable JSON whose parser error quotes the payload (Timestamp's does).
    frames.append(
        _json_event("news", "google.protobuf.Timestamp", b'{"v": ["' + marker + b'"]}')
    )
    frames.append(_json_event("news", "google.protobuf.StringValue", marker))
    text = event_message("news")
    text.cloudEvent.text_data = f'{{"value": ["{MARKER}"]}}'
    text.cloudEvent.attributes["dataschema"].ce_string = "google.protobuf.Timestamp"
    text.cloudEvent.attributes["datacontenttype"].ce_string = "application/json"
    frames.append(text)
    mismatched = event_message("alerts.x")
    mismatched.cloudEvent.proto_data.Pack(wrappers_pb2.StringValue(value=MARKER))
    mismatched.cloudEvent.attributes["dataschema"].ce_string = (
        "google.protobuf.Int64Value"
    )
    frames.append(mismatched)
    unknown = _json_event("news", "no.such.Type", marker)
    frames.append(unknown)
    long_ids = event_message("news", event_id=LONG_ID)
    long_ids.cloudEvent.source = LONG_ID
    long_ids.cloudEvent.binary_data = marker
    frames.append(long_ids)
    bad_topic = event_message("bad topic " + LONG_ID)
    bad_topic.cloudEvent.binary_data = marker
    frames.append(bad_topic)
    oversized = event_message("news")
    oversized.cloudEvent.binary_data = marker * (LIMIT // len(marker) + 1)
    frames.append(oversized)
    undecodable = request_message("bad-request", "collector")
    undecodable.request.payload.data_type = "google.protobuf.Timestamp"
    undecodable.request.payload.data = b'{"v": ["' + marker + b'"]}'
    frames.append(undecodable)
    nowhere = request_message(LONG_ID, "nobody" + LONG_ID)
    nowhere.request.payload.data = marker
    frames.append(nowhere)
    big_request = request_message("big-request", "collector")
    big_request.request.payload.data = marker * (LIMIT // len(marker) + 1)
    frames.append(big_request)
    forged = pb.Message()
    forged.response.request_id = LONG_ID
    forged.response.payload.data = marker
    forged.response.error = MARKER
    frames.append(forged)
    return [
        *(frame.SerializeToString() for frame in frames),
        b"\xff\xff" + marker,  # junk that does not parse
        pb.Message().SerializeToString() + b"\x7a\x05" + marker[:5],  # unknown field
    ]


async def test_hostile_traffic_leaves_no_payload_in_any_log_record() -> None:
    arrivals = Arrivals()
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=LIMIT, rpc_timeout=5) as host,
        running_worker(host.address, max_message_size=LIMIT) as worker,
        RawPeer(host.address, LONG_ID[:4000]) as attacker,
    ):
        await worker.register_agent_class(Collector, lambda: Collector(arrivals))
        frames = _hostile_frames()
        with recorded_logs(logging.DEBUG) as logs:
            for frame in frames:
                await attacker.send_raw(frame)
            await attacker.send(event_message("news", event_id="after-the-junk"))
            await arrivals.wait_for(1)
            replies = [(await attacker.receive()).response for _ in range(3)]
            await wait_until(
                lambda: host.counters.unknown_frames == 1,
                "the host to read the last frame",
            )
        assert arrivals.values() == ["to news"]
        assert all(reply.error for reply in replies)
        assert worker.counters.malformed_frames >= 4
        assert host.counters.oversized_frames == 2
    texts = logs.texts()
    assert texts, "the hostile frames were logged"
    for text in texts:
        assert MARKER not in text, text[:300]
        assert len(text) <= LONGEST_RECORD, text[:300]


async def test_a_worker_publishing_with_a_long_source_logs_it_clipped() -> None:
    async with (
        GrpcHost("127.0.0.1:0") as host,
        running_worker(host.address) as worker,
    ):
        with recorded_logs(logging.DEBUG) as logs:
            await worker.publish_message(
                wrappers_pb2.StringValue(value=MARKER), TopicId("news", LONG_ID)
            )
            await wait_until(
                lambda: host.counters.events_without_subscriber
                + host.counters.events_held
                >= 1,
                "the event to be routed",
            )
    for text in logs.texts():
        assert MARKER not in text
        assert len(text) <= LONGEST_RECORD, text[:300]
