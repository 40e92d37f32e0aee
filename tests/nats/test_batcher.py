"""EventBatcher: events for other workers, several to a NATS message, in order.

A real nats-server; a raw nats-py subscriber unpacks what arrives.
"""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from agentgen.runtime.errors import MessageTooLargeError, NotDeliveredError
from agentgen.runtime.local.work import WorkCount
from agentgen.runtime.nats.batcher import HIGH_WATER, EventBatcher
from agentgen.runtime.nats.counters import NatsCounters
from agentgen.runtime.wire.batches import MAX_BATCH_FRAMES, unpack
from tests.support.grpc_harness import wait_until
from tests.support.nats_servers import NatsServer

pytestmark = pytest.mark.timeout(60)


class Received:
    """What a raw subscriber got: NATS messages, and the frames in them."""

    def __init__(self) -> None:
        self.messages = 0
        self.frames: list[bytes] = []

    async def on_message(self, msg: Msg) -> None:
        self.messages += 1
        self.frames.extend(unpack(msg.data))


async def subscribe(client: Client, subject: str) -> Received:
    received = Received()
    await client.subscribe(subject, cb=received.on_message)
    await client.flush()
    return received


async def test_frames_arrive_in_order_in_few_messages(
    nats_client: Client, nats_namespace: str
) -> None:
    subjects = [f"{nats_namespace}.a", f"{nats_namespace}.b"]
    received = [await subscribe(nats_client, subject) for subject in subjects]
    counters, work = NatsCounters(), WorkCount()
    batcher = EventBatcher(nats_client, counters, work)
    count = 3 * HIGH_WATER  # the publisher runs ahead: it waits for the sender
    for index in range(count):
        await batcher.add(subjects[index % 2], b"%d" % index)
    assert work.count == 1  # the waiting frames hold one unit of work
    await batcher.flush()
    assert work.count == 0 and len(batcher) == 0
    for offset, got in enumerate(received):
        expected = [b"%d" % index for index in range(offset, count, 2)]

        def complete(got: Received = got, size: int = len(expected)) -> bool:
            return len(got.frames) == size

        await wait_until(complete, "every frame")
        assert got.frames == expected
        assert got.messages <= len(expected) / (MAX_BATCH_FRAMES / 2)
    assert counters.events_sent == count
    assert counters.batches_sent == sum(got.messages for got in received)


async def test_a_batch_stays_within_the_servers_max_payload(
    nats_client: Client, nats_namespace: str
) -> None:
    subject = f"{nats_namespace}.big"
    received = await subscribe(nats_client, subject)
    batcher = EventBatcher(nats_client, NatsCounters(), WorkCount())
    frame = b"x" * (nats_client.max_payload // 3)
    for _ in range(7):
        await batcher.add(subject, frame)
    await batcher.flush()
    await wait_until(lambda: len(received.frames) == 7, "every frame")
    assert received.messages >= 3  # at most two such frames fit one message
    with pytest.raises(MessageTooLargeError, match="max_payload"):
        await batcher.add(subject, b"x" * nats_client.max_payload)


async def test_frames_not_sent_after_publish_returned_are_counted_and_logged(
    nats_session_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = await nats.connect(nats_session_server.url)
    counters, work = NatsCounters(), WorkCount()
    batcher = EventBatcher(client, counters, work)
    for _ in range(3):
        await batcher.add("some.subject", b"frame")  # returns: queued
    await client.close()  # before the sender's turn
    await batcher.flush()
    assert counters.events_not_sent == 3 and counters.events_sent == 0
    assert "3 events for some.subject were not sent" in caplog.text
    assert work.count == 0
    with pytest.raises(NotDeliveredError, match="closed"):
        await batcher.add("some.subject", b"frame")


async def test_a_publisher_cancelled_while_waiting_does_not_stop_the_sender(
    nats_client: Client, nats_namespace: str
) -> None:
    subject = f"{nats_namespace}.c"
    received = await subscribe(nats_client, subject)
    batcher = EventBatcher(nats_client, NatsCounters(), WorkCount())

    async def run_ahead() -> None:
        for _ in range(HIGH_WATER + 1):
            await batcher.add(subject, b"f")

    publisher = asyncio.ensure_future(run_ahead())
    await wait_until(lambda: len(batcher) > HIGH_WATER or publisher.done(), "fill")
    publisher.cancel()
    await asyncio.gather(publisher, return_exceptions=True)
    await batcher.flush()
    await wait_until(lambda: len(received.frames) == HIGH_WATER + 1, "all frames")
