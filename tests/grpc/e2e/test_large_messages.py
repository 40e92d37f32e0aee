"""Large payloads pass; an oversized one fails alone and the stream stays healthy."""

from __future__ import annotations

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import AgentId, MessageTooLargeError, TopicId
from agentgen.runtime.grpc import GrpcHost
from tests.support.agents import Arrivals, Collector
from tests.support.grpc_harness import running_worker

pytestmark = pytest.mark.timeout(120)

MIB = 1024 * 1024


async def test_8_mib_publish_and_rpc_pass_with_default_settings() -> None:
    arrivals = Arrivals()
    async with (
        GrpcHost("127.0.0.1:0") as host,
        running_worker(host.address) as callee,
        running_worker(host.address) as caller,
    ):
        await callee.register_agent_class(Collector, lambda: Collector(arrivals))
        big_text = "x" * (8 * MIB)
        await caller.publish_message(
            wrappers_pb2.StringValue(value=big_text), TopicId("news", "k")
        )
        await arrivals.wait_for(1, timeout=60)
        assert arrivals.sizes == [8 * MIB]
        reply = await caller.send_message(
            wrappers_pb2.UInt64Value(value=8 * MIB), AgentId("collector", "k")
        )
        assert isinstance(reply, wrappers_pb2.BytesValue)
        assert len(reply.value) == 8 * MIB


async def test_over_the_limit_fails_that_call_and_the_next_one_succeeds() -> None:
    arrivals = Arrivals()
    limit = 1 * MIB
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=limit) as host,
        running_worker(host.address, max_message_size=limit) as callee,
        running_worker(host.address, max_message_size=limit) as caller,
    ):
        await callee.register_agent_class(Collector, lambda: Collector(arrivals))
        too_big = wrappers_pb2.StringValue(value="y" * (2 * MIB))
        with pytest.raises(MessageTooLargeError, match="max_message_size=1048576"):
            await caller.publish_message(too_big, TopicId("news", "k"))
        with pytest.raises(MessageTooLargeError, match="max_message_size=1048576"):
            await caller.send_message(too_big, AgentId("collector", "k"))
        await caller.publish_message(
            wrappers_pb2.StringValue(value="small"), TopicId("news", "k")
        )
        assert await arrivals.wait_for(1) == ["small"]
        reply = await caller.send_message(
            wrappers_pb2.StringValue(value="after"), AgentId("collector", "k")
        )
        assert reply == wrappers_pb2.StringValue(value="echo:after")
        assert caller.counters.reconnects == 0
        assert host.counters.malformed_frames == 0
