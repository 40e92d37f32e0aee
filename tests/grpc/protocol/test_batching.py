"""The gRPC side of batching (``grpc.protocol.batching``): header, path, take_queued."""

from __future__ import annotations

import asyncio

from agentgen.runtime.grpc.protocol import batching
from agentgen.runtime.grpc.protocol.batching import take_queued
from agentgen.runtime.grpc.protocol.outbox import Outbox
from agentgen.runtime.wire.batches import MAX_BATCH_BYTES, MAX_BATCH_FRAMES


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
