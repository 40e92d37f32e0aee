"""Per-client limits: agent types, subscriptions, name lengths and message size."""

from __future__ import annotations

from collections.abc import Awaitable

import grpc
import pytest
from google.protobuf import wrappers_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import Agent, AgentId, Handler, MessageContext, TopicId
from agentgen.runtime.errors import MessageTooLargeError
from agentgen.runtime.grpc import (
    ClientLimits,
    GrpcHost,
    GrpcWorkerRuntime,
    HostRefusedError,
)
from agentgen.runtime.grpc.protocol import service
from agentgen.runtime.wire.rpc_error_kinds import ERROR_KIND_KEY, RpcErrorKind

from .hostile import (
    RawPeer,
    bounded,
    event_message,
    recorded_logs,
    request_message,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)

WAIT = 10.0
LIMIT = 1024


async def _refused(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


async def test_agent_types_per_client_are_limited() -> None:
    async with (
        GrpcHost("127.0.0.1:0", limits=ClientLimits(max_agent_types=3)) as host,
        RawPeer(host.address) as greedy,
        RawPeer(host.address) as other,
    ):
        for number in range(3):
            await greedy.register(f"type-{number}")
        refused = await _refused(greedy.register("type-3"))
        assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        details = refused.details() or ""
        assert "max_agent_types=3" in details
        assert "'type-3' not registered" in details
        assert "type-3" not in host.agent_types
        for number in range(3, 6):  # the limit is per client
            await other.register(f"type-{number}")
        assert len(host.agent_types) == 6


async def test_subscriptions_per_client_are_limited_and_freed_by_removal() -> None:
    async with (
        GrpcHost("127.0.0.1:0", limits=ClientLimits(max_subscriptions=2)) as host,
        RawPeer(host.address) as greedy,
    ):
        await greedy.register("agent")
        first = await greedy.subscribe("a", "agent")
        await greedy.subscribe("b", "agent", prefix=True)
        refused = await _refused(greedy.subscribe("c", "agent"))
        assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "max_subscriptions=2" in (refused.details() or "")
        await greedy.unary(
            service.REMOVE_SUBSCRIPTION,
            pb.RemoveSubscriptionRequest(id=first),
            pb.RemoveSubscriptionResponse,
        )
        await greedy.subscribe("c", "agent")


@pytest.mark.parametrize("field", ["agent type", "topic type", "prefix", "id"])
async def test_long_names_are_refused(field: str) -> None:
    long = "x" * 41
    async with (
        GrpcHost("127.0.0.1:0", limits=ClientLimits(max_name_length=40)) as host,
        RawPeer(host.address) as peer,
    ):
        call: Awaitable[object]
        if field == "agent type":
            call = peer.register(long)
        else:
            await peer.register("agent")
            call = peer.subscribe(
                long if field != "id" else "news",
                "agent",
                prefix=field == "prefix",
                id=long if field == "id" else "",
            )
        refused = await _refused(call)
        assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = refused.details() or ""
        assert "41 characters long" in details
        assert "max_name_length=40" in details
        assert long not in host.agent_types


class Tiny(Agent):
    """An agent type with nothing to do."""

    AGENT_TYPE = "tiny"


class Other(Tiny):
    AGENT_TYPE = "other"


async def test_a_worker_over_the_limit_gets_a_clear_error() -> None:
    async with (
        GrpcHost("127.0.0.1:0", limits=ClientLimits(max_agent_types=1)) as host,
        GrpcWorkerRuntime(host.address, connect_timeout=WAIT) as worker,
    ):
        await worker.register_agent_class(Tiny)
        with pytest.raises(HostRefusedError) as refused:
            await worker.register_agent_class(Other)
        message = str(refused.value)
        assert "refused agent type 'other'" in message
        assert "RESOURCE_EXHAUSTED" in message
        assert "max_agent_types=1" in message
        assert host.agent_types == {"tiny": worker.client_id}


class Echo(Agent):
    """Answers a StringValue with its length."""

    AGENT_TYPE = "echo"
    HANDLERS = (Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),)

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        return wrappers_pb2.StringValue(value=str(len(message.value)))


async def test_payloads_over_the_hosts_limit_are_refused_per_frame() -> None:
    """Between max_message_size and gRPC's frame limit, the host checks itself."""
    oversized = b"x" * (LIMIT + 1)
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=LIMIT, rpc_timeout=5) as host,
        RawPeer(host.address) as sender,
        RawPeer(host.address) as target,
    ):
        await target.register("target")
        await target.subscribe("news", "target")
        with recorded_logs() as logs:
            big_request = request_message("big-1", "target")
            big_request.request.payload.data = oversized
            await sender.send(big_request)
            refused = (await sender.receive()).response
            big_event = event_message("news", event_id="big-event")
            big_event.cloudEvent.binary_data = oversized
            await sender.send(big_event)
            await sender.send(request_message("small-1", "target"))
            forwarded = (await target.receive()).request
            big_reply = pb.Message()
            big_reply.response.request_id = forwarded.request_id
            big_reply.response.payload.data = oversized
            await target.send(big_reply)
            refused_reply = (await sender.receive()).response
            await sender.send(event_message("news", event_id="small-event"))
            assert (await target.receive()).cloudEvent.id == "small-event"
        assert refused.request_id == "big-1"
        assert refused.metadata[ERROR_KIND_KEY] == RpcErrorKind.TOO_LARGE
        assert f"request payload is {LIMIT + 1} bytes" in refused.error
        assert f"max_message_size={LIMIT}" in refused.error
        assert forwarded.payload.data == b'"ping"'  # not the big request
        assert refused_reply.request_id == "small-1"
        assert refused_reply.metadata[ERROR_KIND_KEY] == RpcErrorKind.TOO_LARGE
        assert "reply payload" in refused_reply.error
        assert not refused_reply.HasField("payload")
        assert host.counters.oversized_frames == 3
        assert len(logs.matching(f"max_message_size={LIMIT}")) == 3
        assert not sender.stream_ended.is_set()


async def test_a_frame_over_grpcs_limit_ends_only_the_senders_stream() -> None:
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=LIMIT) as host,
        RawPeer(host.address) as sender,
        RawPeer(host.address) as bystander,
        RawPeer(host.address) as publisher,
    ):
        await bystander.register("bystander")
        await bystander.subscribe("news", "bystander")
        huge = event_message("news")
        huge.cloudEvent.binary_data = b"x" * (2 * 1024 * 1024)
        await sender.send(huge)
        await bounded(sender.stream_ended.wait())
        code, details = await sender.stream_status()
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "larger than max" in details
        await publisher.send(event_message("news", event_id="after"))
        assert (await bystander.receive()).cloudEvent.id == "after"
        await wait_until(lambda: host.counters.event_deliveries == 1, "delivery")


async def test_an_oversized_rpc_fails_in_the_worker_before_sending() -> None:
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=LIMIT) as host,
        GrpcWorkerRuntime(
            host.address, max_message_size=LIMIT, connect_timeout=WAIT
        ) as worker,
    ):
        await worker.register_agent_class(Echo)
        small = await worker.send_message(
            wrappers_pb2.StringValue(value="abc"), AgentId("echo", "k")
        )
        assert small.value == "3"
        with pytest.raises(MessageTooLargeError, match=f"max_message_size={LIMIT}"):
            await worker.publish_message(
                wrappers_pb2.StringValue(value="x" * (LIMIT + 1)), TopicId("news")
            )
    assert host.counters.oversized_frames == 0


@pytest.mark.parametrize(
    "field", ["max_agent_types", "max_subscriptions", "max_name_length"]
)
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=f"ClientLimits.{field} must be positive"):
        ClientLimits(**{field: 0})
