"""GrpcHost against raw wire-protocol peers: registration, routing, RPC, faults."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator

import grpc
import pytest

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc import GrpcHost
from agentgen.runtime.grpc.protocol import batching, service
from agentgen.runtime.wire import batches
from agentgen.runtime.wire.rpc_error_kinds import ERROR_KIND_KEY, RpcErrorKind
from tests.support.grpc_harness import (
    RawPeer,
    bounded,
    event_message,
    request_message,
    response_message,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def host() -> AsyncIterator[GrpcHost]:
    async with GrpcHost("127.0.0.1:0", rpc_timeout=5) as running:
        yield running


async def test_start_binds_a_free_port_and_reports_it(host: GrpcHost) -> None:
    host_name, _, port = host.address.rpartition(":")
    assert host_name == "127.0.0.1"
    assert int(port) > 0
    with socket.create_connection(("127.0.0.1", int(port)), timeout=5):
        pass


async def test_a_second_host_on_a_bound_port_fails_with_a_clear_error(
    host: GrpcHost,
) -> None:
    with pytest.raises(OSError, match=f"cannot listen on {host.address}"):
        await GrpcHost(host.address).start()


async def test_calls_without_client_id_are_refused(host: GrpcHost) -> None:
    async with grpc.aio.insecure_channel(host.address) as channel:
        register = channel.unary_unary(
            service.method_path(service.REGISTER_AGENT),
            request_serializer=pb.RegisterAgentTypeRequest.SerializeToString,
            response_deserializer=pb.RegisterAgentTypeResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await register(pb.RegisterAgentTypeRequest(type="a"), timeout=5)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        stream = channel.stream_stream(
            service.method_path(service.OPEN_CHANNEL), None, None
        )(None)
        with pytest.raises(grpc.aio.AioRpcError) as closed:
            await bounded(stream.read())
        assert closed.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_one_owner_per_agent_type_until_its_stream_ends(host: GrpcHost) -> None:
    first = RawPeer(host.address)
    await first.open()
    await first.register("solo")
    async with RawPeer(host.address) as second:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await second.register("solo")
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # The owner's client id is not revealed: it is all it takes to act as it.
        assert "another client" in (refused.value.details() or "")
        assert first.client_id not in (refused.value.details() or "")
        await first.close()
        await wait_until(
            lambda: "solo" not in host.agent_types,
            "the host to drop the closed client's type",
        )
        await second.register("solo")


async def test_a_reopened_channel_with_the_same_client_id_keeps_its_types(
    host: GrpcHost,
) -> None:
    # The .NET worker recreates its channel under the same client id and does
    # not register again; the old stream's end must not erase the client.
    first = RawPeer(host.address, "dotnet-client")
    await first.open()
    await first.register("kept")
    await first.subscribe("kept-news", "kept")
    async with (
        RawPeer(host.address, "dotnet-client") as second,
        RawPeer(host.address) as publisher,
    ):
        await bounded(first.stream_ended.wait())  # replaced by the new stream
        await first.close()
        assert host.agent_types == {"kept": "dotnet-client"}
        await publisher.send(event_message("kept-news", event_id="after-reopen"))
        assert (await second.receive()).cloudEvent.id == "after-reopen"


async def test_register_before_open_channel_is_accepted(host: GrpcHost) -> None:
    peer = RawPeer(host.address)
    await peer.register("early")
    await peer.subscribe("early-news", "early")
    await peer.open()
    async with RawPeer(host.address) as publisher:
        await publisher.send(event_message("early-news"))
        received = await peer.receive()
    assert received.cloudEvent.type == "early-news"
    await peer.close()


async def test_subscription_ids_are_kept_listed_and_removable(host: GrpcHost) -> None:
    async with RawPeer(host.address) as peer:
        await peer.register("lister")
        await peer.subscribe("t1", "lister", id="my-fixed-id")
        await peer.subscribe("p.", "lister", prefix=True, id="my-prefix-id")
        listed = await peer.unary(
            service.GET_SUBSCRIPTIONS,
            pb.GetSubscriptionsRequest(),
            pb.GetSubscriptionsResponse,
        )
        by_id = {s.id: s for s in listed.subscriptions}
        assert set(by_id) == {"my-fixed-id", "my-prefix-id"}
        assert by_id["my-fixed-id"].typeSubscription.topic_type == "t1"
        assert by_id["my-prefix-id"].typePrefixSubscription.topic_type_prefix == "p."
        with pytest.raises(grpc.aio.AioRpcError) as duplicate:
            await peer.subscribe("t1", "lister")
        assert duplicate.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as empty:
            await peer.unary(
                service.ADD_SUBSCRIPTION,
                pb.AddSubscriptionRequest(subscription=pb.Subscription(id="x")),
                pb.AddSubscriptionResponse,
            )
        assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        await peer.unary(
            service.REMOVE_SUBSCRIPTION,
            pb.RemoveSubscriptionRequest(id="my-fixed-id"),
            pb.RemoveSubscriptionResponse,
        )
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await peer.unary(
                service.REMOVE_SUBSCRIPTION,
                pb.RemoveSubscriptionRequest(id="my-fixed-id"),
                pb.RemoveSubscriptionResponse,
            )
        assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_events_go_unchanged_once_to_each_subscribed_client(
    host: GrpcHost,
) -> None:
    async with (
        RawPeer(host.address) as by_type,
        RawPeer(host.address) as by_prefix,
        RawPeer(host.address) as two_types,
        RawPeer(host.address) as publisher,
        RawPeer(host.address) as bystander,
    ):
        await by_type.register("a")
        await by_type.subscribe("alerts.fire", "a")
        await by_prefix.register("b")
        await by_prefix.subscribe("alerts.", "b", prefix=True)
        await two_types.register("c1")
        await two_types.register("c2")
        await two_types.subscribe("alerts.fire", "c1")
        await two_types.subscribe("alerts.", "c2", prefix=True)
        await publisher.register("pub")
        await publisher.subscribe("alerts.fire", "pub")
        await bystander.register("other")
        await bystander.subscribe("unrelated", "other")

        frame = event_message("alerts.fire", "src").SerializeToString()
        await publisher.send_raw(frame)
        # Every subscribed client, the publisher included, gets the exact bytes.
        for peer in (by_type, by_prefix, two_types, publisher):
            assert await peer.receive_raw() == frame
        await publisher.send(event_message("unrelated"))
        assert (await bystander.receive()).cloudEvent.type == "unrelated"
        # No second copy reached the client owning two subscribed types.
        assert two_types.frames.empty()
        assert by_type.frames.empty()
    assert host.counters.event_deliveries == 5


async def test_unrouted_events_wait_briefly_for_a_late_subscriber(
    host: GrpcHost,
) -> None:
    async with RawPeer(host.address) as publisher, RawPeer(host.address) as late:
        frame = event_message("later", "src").SerializeToString()
        await publisher.send_raw(frame)
        await wait_until(lambda: host.counters.events_held == 1, "the held event")
        await late.register("late")
        await late.subscribe("later", "late")
        assert await late.receive_raw() == frame
    assert host.counters.events_without_subscriber == 0


async def test_unrouted_events_are_dropped_and_counted_when_holding_is_off() -> None:
    async with (
        GrpcHost("127.0.0.1:0", hold_unrouted=0) as host,
        RawPeer(host.address) as publisher,
        RawPeer(host.address) as late,
    ):
        await publisher.send(event_message("nobody-listens"))
        await wait_until(
            lambda: host.counters.events_without_subscriber == 1, "the drop"
        )
        await late.register("late")
        await late.subscribe("nobody-listens", "late")
        await publisher.send(event_message("nobody-listens", event_id="second"))
        assert (await late.receive()).cloudEvent.id == "second"


async def test_rpc_request_ids_are_rewritten_and_restored(host: GrpcHost) -> None:
    async with (
        RawPeer(host.address) as target,
        RawPeer(host.address) as caller1,
        RawPeer(host.address) as caller2,
    ):
        await target.register("echo")
        # Both callers number their requests from "1", as AutoGen Python does.
        await caller1.send(request_message("1", "echo", "k1"))
        await caller2.send(request_message("1", "echo", "k2"))
        seen: dict[str, str] = {}
        for _ in range(2):
            request = (await target.receive()).request
            seen[request.target.key] = request.request_id
        assert len(set(seen.values())) == 2
        assert "1" not in seen.values()
        for key, host_id in seen.items():
            await target.send(response_message(host_id, f'"for {key}"'.encode()))
        answer1 = (await caller1.receive()).response
        answer2 = (await caller2.receive()).response
    assert (answer1.request_id, answer1.payload.data) == ("1", b'"for k1"')
    assert (answer2.request_id, answer2.payload.data) == ("1", b'"for k2"')


async def test_request_to_an_unknown_type_is_answered_with_an_error(
    host: GrpcHost,
) -> None:
    async with RawPeer(host.address) as caller:
        await caller.send(request_message("r-1", "nobody"))
        response = (await caller.receive()).response
    assert response.request_id == "r-1"
    assert "nobody" in response.error
    assert response.metadata[ERROR_KIND_KEY] == RpcErrorKind.UNDELIVERABLE
    assert not response.HasField("payload")


async def test_target_disconnecting_mid_call_fails_the_request(
    host: GrpcHost,
) -> None:
    target = RawPeer(host.address)
    await target.open()
    await target.register("fragile")
    async with RawPeer(host.address) as caller:
        await caller.send(request_message("r-2", "fragile"))
        await target.receive()  # the request reached the target...
        await target.close()  # ...which leaves without replying
        response = (await caller.receive()).response
    assert response.request_id == "r-2"
    assert response.metadata[ERROR_KIND_KEY] == RpcErrorKind.CONNECTION_LOST
    assert host.counters.rpc_target_lost == 1


async def test_host_rpc_timeout_answers_the_caller() -> None:
    async with (
        GrpcHost("127.0.0.1:0", rpc_timeout=0.2) as host,
        RawPeer(host.address) as target,
        RawPeer(host.address) as caller,
    ):
        await target.register("silent")
        await caller.send(request_message("r-3", "silent"))
        await target.receive()
        response = (await caller.receive()).response
        assert response.request_id == "r-3"
        assert response.metadata[ERROR_KIND_KEY] == RpcErrorKind.TIMEOUT
        # A late reply is counted and dropped, not forwarded.
        late = pb.Message()
        late.response.request_id = "whatever-the-host-assigned"
        await target.send(late)
        await wait_until(lambda: host.counters.unmatched_replies == 1, "the late reply")
        assert caller.frames.empty()


async def test_host_deadlines_expire_only_requests_left_unanswered() -> None:
    async with (
        GrpcHost("127.0.0.1:0", rpc_timeout=0.2) as host,
        RawPeer(host.address) as target,
        RawPeer(host.address) as caller,
    ):
        await target.register("half-silent")
        await caller.send(request_message("answered", "half-silent"))
        await target.answer_next_request()
        assert (await caller.receive()).response.request_id == "answered"
        await caller.send(request_message("ignored", "half-silent"))
        await target.receive()
        response = (await caller.receive()).response
        assert response.request_id == "ignored"
        assert response.metadata[ERROR_KIND_KEY] == RpcErrorKind.TIMEOUT
        # The answered request's deadline came first and expired nothing.
        assert host.counters.rpc_timed_out == 1
        assert host.counters.rpc_replies == 1
        assert caller.frames.empty()


async def test_malformed_and_unknown_frames_are_skipped_and_counted(
    host: GrpcHost,
) -> None:
    async with (
        RawPeer(host.address) as sender,
        RawPeer(host.address) as listener,
    ):
        await listener.register("listener")
        await listener.subscribe("after-junk", "listener")
        await sender.send_raw(b"\xff\xff\xff\xff not a protobuf")
        await sender.send_raw(b"")  # parses as a Message with nothing set
        bad_topic = event_message("after-junk")
        bad_topic.cloudEvent.type = "spaces are not allowed"
        await sender.send(bad_topic)
        await sender.send(event_message("after-junk"))
        received = await listener.receive()
        assert not sender.stream_ended.is_set()
    assert received.cloudEvent.type == "after-junk"
    assert host.counters.malformed_frames == 2
    assert host.counters.unknown_frames == 1


async def test_a_malformed_batch_is_counted_and_skipped_not_the_stream() -> None:
    async with (
        GrpcHost("127.0.0.1:0") as host,
        RawPeer(host.address) as receiver,
        grpc.aio.insecure_channel(host.address) as channel,
    ):
        await receiver.register("listener")
        await receiver.subscribe("news", "listener")
        call = channel.stream_stream(batching.batch_path(), None, None)(
            None, metadata=((service.CLIENT_ID_HEADER, "batch-peer"),)
        )
        headers = await bounded(call.initial_metadata())
        assert batching.advertises_batching(headers)
        events = [event_message("news", event_id=f"e{i}") for i in range(3)]
        frames = [event.SerializeToString() for event in events]
        await bounded(call.write(b"\x05ab"))  # cut short: skipped whole
        await bounded(call.write(batches.pack(frames)))
        received = [await receiver.receive() for _ in frames]
        assert [m.cloudEvent.id for m in received] == ["e0", "e1", "e2"]
        await wait_until(lambda: host.counters.event_deliveries == 3, "deliveries")
        assert host.counters.malformed_batches == 1
        assert host.counters.batches_received == 2
        assert host.counters.frames_received == 3
        call.cancel()


async def test_stream_end_drops_the_clients_types_and_subscriptions(
    host: GrpcHost,
) -> None:
    async with RawPeer(host.address) as observer:
        leaving = RawPeer(host.address)
        await leaving.open()
        await leaving.register("leaver")
        await leaving.subscribe("t", "leaver")
        await leaving.close()

        async def listed() -> int:
            response = await observer.unary(
                service.GET_SUBSCRIPTIONS,
                pb.GetSubscriptionsRequest(),
                pb.GetSubscriptionsResponse,
            )
            return len(response.subscriptions)

        await wait_until(lambda: "leaver" not in host.agent_types, "client cleanup")
        assert await listed() == 0
        await observer.register("leaver")


async def test_control_messages_are_routed_by_destination(host: GrpcHost) -> None:
    async with RawPeer(host.address) as a, RawPeer(host.address) as b:
        await b.register("btype")
        opened = []
        for peer in (a, b):
            control = peer.channel.stream_stream(
                service.method_path(service.OPEN_CONTROL_CHANNEL),
                request_serializer=pb.ControlMessage.SerializeToString,
                response_deserializer=pb.ControlMessage.FromString,
            )(None, metadata=peer.metadata)
            opened.append(control)
        control_a, control_b = opened
        for control in opened:  # sent once the host has attached the channel
            await bounded(control.initial_metadata())
        await control_a.write(
            pb.ControlMessage(rpc_id="c1", destination="agentid=btype/k")
        )
        await control_a.write(
            pb.ControlMessage(rpc_id="c2", destination=f"clientid={a.client_id}")
        )
        await control_a.write(pb.ControlMessage(rpc_id="c3", destination="nowhere"))
        to_b = await bounded(control_b.read())
        to_a = await bounded(control_a.read())
        assert isinstance(to_b, pb.ControlMessage)
        assert isinstance(to_a, pb.ControlMessage)
        assert (to_b.rpc_id, to_a.rpc_id) == ("c1", "c2")
        await wait_until(
            lambda: host.counters.control_undeliverable == 1, "the lost message"
        )
        control_a.cancel()
        control_b.cancel()


async def test_stopping_the_host_answers_pending_requests_and_ends_streams() -> None:
    host = GrpcHost("127.0.0.1:0")
    await host.start()
    async with RawPeer(host.address) as target, RawPeer(host.address) as caller:
        await target.register("slow")
        await caller.send(request_message("r-9", "slow"))
        await target.receive()
        await host.stop(grace=1)
        response = (await caller.receive()).response
        assert response.metadata[ERROR_KIND_KEY] == RpcErrorKind.CONNECTION_LOST
        await bounded(caller.stream_ended.wait())
        await bounded(target.stream_ended.wait())
    assert not host.running


async def test_large_event_passes_through_under_the_limit() -> None:
    payload = "x" * (8 * 1024 * 1024)
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=16 * 1024 * 1024) as host,
        RawPeer(host.address, max_receive=16 * 1024 * 1024) as receiver,
        RawPeer(host.address) as sender,
    ):
        await receiver.register("big")
        await receiver.subscribe("big-topic", "big")
        message = event_message("big-topic")
        message.cloudEvent.binary_data = payload.encode()
        await sender.send(message)
        received = await receiver.receive(timeout=30)
    assert len(received.cloudEvent.binary_data) == len(payload)


async def test_host_stops_cleanly_while_clients_are_connected() -> None:
    host = GrpcHost("127.0.0.1:0")
    await host.start()
    peers = [RawPeer(host.address) for _ in range(3)]
    await asyncio.gather(*(peer.open() for peer in peers))
    await bounded(host.stop(grace=1))
    for peer in peers:
        await bounded(peer.stream_ended.wait())
        await peer.close()


async def test_stop_when_signal_stops_the_host() -> None:
    host = GrpcHost("127.0.0.1:0")
    await host.start()
    waiting = asyncio.create_task(host.stop_when_signal(signals=(signal.SIGUSR1,)))
    await asyncio.sleep(0)  # let it install its handler
    os.kill(os.getpid(), signal.SIGUSR1)
    await bounded(waiting)
    assert not host.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", int(host.address.rpartition(":")[2])))


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
async def test_ipv6_loopback_address() -> None:
    async with GrpcHost("[::1]:0") as host:
        assert host.address.startswith("[::1]:")
        async with RawPeer(host.address) as peer:
            await peer.register("v6")
        assert host.counters.malformed_frames == 0
