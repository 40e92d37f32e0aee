"""Batches of frames (``agentgen.runtime.wire.batches``), without a transport."""

from __future__ import annotations

import logging

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime.grpc.worker.counters import WorkerCounters
from agentgen.runtime.log_text import FirstTimes
from agentgen.runtime.nats.counters import NatsCounters
from agentgen.runtime.wire.batches import (
    BatchReader,
    MalformedBatchError,
    pack,
    unpack,
)

SIZES = [0, 1, 127, 128, 300, 16_383, 16_384, 70_000, 2_097_152]


@pytest.mark.parametrize("size", SIZES)
def test_a_frame_is_prefixed_with_its_protobuf_varint_length(size: int) -> None:
    frame = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    # BytesValue is field 1, wire type 2: one tag byte, then varint and bytes.
    expected = wrappers_pb2.BytesValue(value=frame).SerializeToString()[1:]
    assert pack([frame]) == (expected if size else b"\x00")
    assert unpack(pack([frame])) == [frame]


def test_a_length_prefix_longer_than_needed_is_read_as_protobuf_reads_it() -> None:
    # Protobuf parsers accept varints with redundant continuation bytes.
    assert unpack(b"\x81\x00a" + b"\x82\x80\x00bc") == [b"a", b"bc"]


def test_frames_come_back_in_order_and_empty_batches_have_none() -> None:
    frames = [b"", b"a", b"b" * 200, b"c" * 70_000, b""]
    assert unpack(pack(frames)) == frames
    assert pack([]) == b""
    assert unpack(b"") == []


@pytest.mark.parametrize(
    "data",
    [
        b"\x80",  # a length prefix cut short
        b"\x80\x80",  # a length prefix cut short after two bytes
        b"\x80\x01" + b"a" * 127,  # a two-byte length (128), one byte short
        b"\x05abc",  # a frame longer than what follows
        b"\x01a\x03b",  # fine, then a cut frame: nothing is returned
        b"\xff" * 11 + b"\x01",  # a length prefix over 10 bytes
    ],
)
def test_malformed_batches_are_refused_whole(data: bytes) -> None:
    with pytest.raises(MalformedBatchError):
        unpack(data)


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


def test_with_once_a_kind_of_malformed_batch_is_logged_once_and_counted_always(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counters = NatsCounters()
    logger = logging.getLogger("agentgen.runtime.nats")
    reader = BatchReader(counters, logger, "NATS subject {}", once=FirstTimes())
    with caplog.at_level(logging.WARNING, logger=logger.name):
        for _ in range(3):
            assert reader.frames(b"\x80", "ns.w.x.ev") == []
    assert counters.malformed_batches == 3
    assert caplog.text.count("malformed 1-byte batch from NATS subject ns.w.x.ev") == 1
