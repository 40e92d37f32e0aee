"""The batch stream between agentgen workers and GrpcHost, and its fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from google.protobuf import wrappers_pb2

from agentgen.protos import cloudevent_pb2
from agentgen.runtime import AgentId, TopicId
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime
from tests.support.agents import Arrivals, Collector
from tests.support.grpc_harness import RawPeer, bounded, running_worker

pytestmark = pytest.mark.timeout(60)

PUBLISHERS = 3
PER_PUBLISHER = 500


@pytest.fixture(params=[True, False], ids=["batching", "no-batching"])
def offered(request: pytest.FixtureRequest) -> bool:
    """Whether the host offers the batch stream."""
    return bool(request.param)


@pytest.fixture
async def host(offered: bool) -> AsyncIterator[GrpcHost]:
    async with GrpcHost("127.0.0.1:0", rpc_timeout=10, batching=offered) as running:
        yield running


async def publish_all(worker: GrpcWorkerRuntime, key: str) -> None:
    for value in range(PER_PUBLISHER):
        await worker.publish_message(
            wrappers_pb2.Int64Value(value=value), TopicId("news", key)
        )


async def test_a_publish_burst_arrives_once_and_in_order_per_publisher(
    host: GrpcHost, offered: bool
) -> None:
    arrivals = Arrivals()
    async with (
        running_worker(host.address) as subscriber,
        running_worker(host.address) as first,
        running_worker(host.address) as second,
        running_worker(host.address) as third,
    ):
        publishers = [first, second, third]
        assert [w.batched for w in (subscriber, *publishers)] == [offered] * 4
        await subscriber.register_agent_class(Collector, lambda: Collector(arrivals))
        await bounded(
            asyncio.gather(
                *(
                    publish_all(worker, f"p{index}")
                    for index, worker in enumerate(publishers)
                )
            )
        )
        await arrivals.wait_for(PUBLISHERS * PER_PUBLISHER)
        for worker in (*publishers, subscriber):
            await bounded(worker.stop_when_idle())
        counts = [w.counters for w in (subscriber, *publishers)]
    for index in range(PUBLISHERS):
        values = [v for key, v, _ in arrivals.items if key == f"p{index}"]
        assert values == [str(value) for value in range(PER_PUBLISHER)]
    assert len(arrivals.items) == PUBLISHERS * PER_PUBLISHER
    counters = host.counters
    total = PUBLISHERS * PER_PUBLISHER
    assert counters.event_deliveries == total
    assert counters.events_routed == total
    assert counters.frames_received >= total  # frames, not batches
    assert counters.malformed_batches == counters.malformed_frames == 0
    assert counters.frames_dropped == counters.internal_errors == 0
    assert subscriber.counters.events_delivered == total
    assert sum(c.published for c in counts[1:]) == total
    assert all(c.malformed_batches == c.malformed_frames == 0 for c in counts)
    if offered:
        assert 0 < counters.batches_received < counters.frames_received
    else:
        assert counters.batches_received == 0


async def test_rpc_and_replies_work_over_either_stream(host: GrpcHost) -> None:
    arrivals = Arrivals()
    async with (
        running_worker(host.address) as server,
        running_worker(host.address) as client,
    ):
        await server.register_agent_class(Collector, lambda: Collector(arrivals))
        replies = await bounded(
            asyncio.gather(
                *(
                    client.send_message(
                        wrappers_pb2.StringValue(value=f"m{index}"),
                        AgentId("collector", f"k{index % 4}"),
                    )
                    for index in range(200)
                )
            )
        )
        assert [r.value for r in replies] == [f"echo:m{i}" for i in range(200)]
        await bounded(client.stop_when_idle())
        await bounded(server.stop_when_idle())
    assert host.counters.rpc_forwarded == host.counters.rpc_replies == 200


async def test_a_raw_openchannel_peer_gets_one_frame_per_message() -> None:
    async with (
        GrpcHost("127.0.0.1:0") as host,
        RawPeer(host.address) as receiver,
        running_worker(host.address) as publisher,
    ):
        await receiver.register("listener")
        await receiver.subscribe("news", "listener")
        assert publisher.batched
        for value in range(50):
            await publisher.publish_message(
                wrappers_pb2.Int64Value(value=value), TopicId("news", "k")
            )
        # Each frame is one gRPC message on OpenChannel (RawPeer parses each).
        received = [await receiver.receive() for _ in range(50)]
        assert [_int64(m.cloudEvent) for m in received] == list(range(50))
        assert receiver.frames.empty()


def _int64(event: cloudevent_pb2.CloudEvent) -> int:
    value = wrappers_pb2.Int64Value()
    assert event.proto_data.Unpack(value)
    return value.value
