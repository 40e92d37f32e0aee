"""The batch framing of ``agentgen.runtime.grpc.protocol.batching``, without gRPC."""

from __future__ import annotations

import asyncio
import logging

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime.grpc.protocol import batching
from agentgen.runtime.grpc.protocol.batching import (
    MAX_BATCH_BYTES,
    MAX_BATCH_FRAMES,
    BatchReader,
    MalformedBatchError,
    pack,
    take_queued,
    unpack,
)
from agentgen.runtime.grpc.protocol.outbox import Outbox
from agentgen.runtime.grpc.worker.counters import WorkerCounters

SIZES = [0, 1, 127, 128, 300, 16_383, 16_384, 70_000, 2_097_152]


@pytest.mark.parametrize("size", SIZES)
def test_a_frame_is_prefixed_with_its_protobuf_varint_length(size: int) -> None:
    frame = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    # BytesValue is field 1, wire type 2: one tag byte, then varint and bytes.
    expected = wrappers_pb2.BytesValue(value=frame).SerializeToString()[1:]
    assert pack([frame]) == (expected if size else b"\x00")
    assert unpack(pack([frame])) == [frame]


def test_frames_come_back_in_order_and_empty_batches_have_none() -> None:
    frames = [b"", b"a", b"b" * 200, b"c" * 70_000, b""]
    assert unpack(pack(frames)) == frames
    assert pack([]) == b""
    assert unpack(b"") == []


@pytest.mark.parametrize(
    "data",
    [
        b"\x80",  # a length prefix cut short
        b"\x05abc",  # a frame longer than what follows
        b"\x01a\x03b",  # fine, then a cut frame: nothing is returned
        b"\xff" * 11 + b"\x01",  # a length prefix over 10 bytes
    ],
)
def test_malformed_batches_are_refused_whole(data: bytes) -> None:
    with pytest.raises(MalformedBatchError):
        unpack(data)


def test_the_header_advertises_batching() -> None:
    assert batching.advertises_batching([("agentgen-batch", "1")])
    assert batching.advertises_batching([("x", "y"), ("agentgen-batch", b"1")])
    assert not batching.advertises_batching([("agentgen-host", "1")])
    assert not batching.advertises_batching(None)
    assert batching.batch_path() == "/agentgen.AgentRpcBatch/OpenBatchChannel"


async def test_take_queued_takes_what_is_queued_within_the_count_cap() -> None:
    outbox = Outbox[bytes](10_000)
    for index in range(MAX_BATCH_FRAMES + 10):
        outbox.put_urgent(b"%d" % index)
    first = await asyncio.wait_for(outbox.get(), 1)
    assert first is not None
    taken = take_queued(outbox, first, len)
    assert taken == [b"%d" % index for index in range(MAX_BATCH_FRAMES)]
    rest = take_queued(outbox, outbox.get_nowait() or b"", len)
    assert rest == [b"%d" % index for index in range(MAX_BATCH_FRAMES, 266)]
    assert len(outbox) == 0


def test_take_queued_keeps_within_the_byte_cap_and_sends_a_big_frame_alone() -> None:
    outbox = Outbox[bytes](100)
    half = b"h" * (MAX_BATCH_BYTES // 2)
    big = b"b" * (MAX_BATCH_BYTES + 1)
    for frame in (half, b"s", big, b"t"):
        outbox.put_urgent(frame)
    # Exactly MAX_BATCH_BYTES: one more byte would be over.
    assert take_queued(outbox, half, len) == [half, half]
    assert take_queued(outbox, outbox.get_nowait() or b"", len) == [b"s"]
    assert take_queued(outbox, outbox.get_nowait() or b"", len) == [big]
    assert take_queued(outbox, outbox.get_nowait() or b"", len) == [b"t"]


def test_take_queued_never_waits_on_an_empty_outbox() -> None:
    outbox = Outbox[bytes](4)
    assert take_queued(outbox, b"only", len) == [b"only"]


def test_a_worker_counts_and_skips_a_malformed_batch_from_the_host(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counters = WorkerCounters()
    logger = logging.getLogger("agentgen.runtime.grpc.worker")
    reader = BatchReader(counters, logger, "the host (client {})")
    with caplog.at_level(logging.WARNING, logger=logger.name):
        assert reader.frames(b"\x05ab", "c1") == []
    assert counters.malformed_batches == 1
    assert counters.batches_received == 1
    assert "malformed 3-byte batch from the host (client c1)" in caplog.text
    assert reader.frames(pack([b"a", b"bc"]), "c1") == [b"a", b"bc"]
    assert counters.malformed_batches == 1
    assert counters.batches_received == 2
