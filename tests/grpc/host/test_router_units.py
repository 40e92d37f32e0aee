"""HostRouter and its ClientRegistry without gRPC: frames in, outboxes out.

A client is a client id with an outbox (``registry.open_channel``), as the
servicer would attach it; frames go in through ``router.on_frame`` and come
out of the outboxes of the clients they are routed to.
"""

from __future__ import annotations

import pytest

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc.host.client_limits import ClientLimits
from agentgen.runtime.grpc.host.registry import (
    ClientLimitError,
    HostRejection,
    NotOwnerError,
)
from agentgen.runtime.grpc.host.router import HostRouter
from agentgen.runtime.wire.rpc_error_kinds import ERROR_KIND_KEY, RpcErrorKind
from tests.support.grpc_harness import (
    bounded,
    event_message,
    request_message,
    response_message,
    wire_subscription,
)

from .routing import (
    client,
    forwarded_request,
    make_router,
    queued,
    responses,
    subscribe,
)


@pytest.fixture
def router() -> HostRouter:
    return make_router()


async def test_an_event_reaches_each_owning_client_once_publisher_included(
    router: HostRouter,
) -> None:
    by_type = client(router, "by-type", "a")
    two_types = client(router, "two-types", "c1", "c2")
    publisher = client(router, "publisher", "pub")
    bystander = client(router, "bystander", "other")
    subscribe(router, "by-type", "alerts.fire", "a")
    subscribe(router, "two-types", "alerts.fire", "c1")
    subscribe(router, "two-types", "alerts.", "c2", prefix=True)
    subscribe(router, "publisher", "alerts.fire", "pub")
    subscribe(router, "bystander", "unrelated", "other")
    frame = event_message("alerts.fire", "src").SerializeToString()
    await router.on_frame("publisher", frame)
    for outbox in (by_type, two_types, publisher):
        assert queued(outbox) == [frame]  # the exact bytes, once per client
    assert queued(bystander) == []
    assert router.counters.events_routed == 1
    assert router.counters.event_deliveries == 3


async def test_a_prefix_subscription_matches_the_topic_types_it_starts(
    router: HostRouter,
) -> None:
    watcher = client(router, "watcher", "watcher")
    client(router, "publisher")
    subscribe(router, "watcher", "alerts.", "watcher", prefix=True)
    for topic_type in ("alerts.fire", "alerts.", "alerts", "x.alerts.fire"):
        event = event_message(topic_type, event_id=topic_type)
        await router.on_frame("publisher", event.SerializeToString())
    delivered = [pb.Message.FromString(f).cloudEvent.id for f in queued(watcher)]
    assert delivered == ["alerts.fire", "alerts."]
    assert router.counters.events_without_subscriber == 2


async def test_an_unrouted_event_is_held_until_a_subscription_routes_it() -> None:
    router = make_router(hold_unrouted=5.0)
    client(router, "publisher")
    frame = event_message("later", "src").SerializeToString()
    await router.on_frame("publisher", frame)
    assert router.counters.events_held == 1
    late = client(router, "late", "late")
    assert queued(late) == []  # owning a type routes nothing yet
    subscribe(router, "late", "later", "late")
    assert queued(late) == [frame]
    assert router.counters.event_deliveries == 1
    assert router.counters.events_without_subscriber == 0


async def test_an_unrouted_event_is_dropped_and_counted_when_holding_is_off(
    router: HostRouter,
) -> None:
    client(router, "publisher")
    await router.on_frame("publisher", event_message("nobody").SerializeToString())
    late = client(router, "late", "late")
    subscribe(router, "late", "nobody", "late")
    assert queued(late) == []
    assert router.counters.events_held == 0
    assert router.counters.events_without_subscriber == 1


async def test_requests_go_with_host_ids_and_replies_come_back_with_the_callers(
    router: HostRouter,
) -> None:
    callers = {name: client(router, name) for name in ("caller-1", "caller-2")}
    target = client(router, "target", "echo")
    # Both callers number their requests from "1", as AutoGen Python does.
    host_ids = {}
    for name in callers:
        await router.on_frame(
            name, request_message("1", "echo", name).SerializeToString()
        )
        forwarded = forwarded_request(target)
        assert forwarded.request_id.startswith(router.request_id_prefix)
        assert (forwarded.target.key, forwarded.payload.data) == (name, b'"ping"')
        host_ids[name] = forwarded.request_id
    assert len(set(host_ids.values())) == 2
    for name, host_id in reversed(host_ids.items()):
        reply = response_message(host_id, f'"for {name}"'.encode())
        await router.on_frame("target", reply.SerializeToString())
    for name, outbox in callers.items():
        [response] = responses(outbox)
        assert (response.request_id, response.payload.data) == (
            "1",
            f'"for {name}"'.encode(),
        )
    assert router.counters.rpc_forwarded == router.counters.rpc_replies == 2


async def test_a_request_nobody_can_take_is_answered_undeliverable(
    router: HostRouter,
) -> None:
    caller = client(router, "caller")
    router.registry.register_agent_type("early", "unattached")  # no channel yet
    for request_id, target_type, reason in (
        ("r-1", "nobody", "no worker serves agent type 'nobody'"),
        ("r-2", "unattached", "has no open channel"),
    ):
        request = request_message(request_id, target_type)
        await router.on_frame("caller", request.SerializeToString())
        [response] = responses(caller)
        assert response.request_id == request_id
        assert response.metadata[ERROR_KIND_KEY] == RpcErrorKind.UNDELIVERABLE
        assert reason in response.error
        assert not response.HasField("payload")
    assert router.counters.rpc_undeliverable == 2
    assert router.counters.rpc_forwarded == 0


async def test_the_target_leaving_fails_its_pending_requests_as_connection_lost(
    router: HostRouter,
) -> None:
    caller = client(router, "caller")
    target = client(router, "target", "fragile")
    for request_id in ("r-1", "r-2"):
        request = request_message(request_id, "fragile")
        await router.on_frame("caller", request.SerializeToString())
    assert len(queued(target)) == 2
    router.registry.close_channel("target", target)
    assert [(r.request_id, r.metadata[ERROR_KIND_KEY]) for r in responses(caller)] == [
        ("r-1", RpcErrorKind.CONNECTION_LOST),
        ("r-2", RpcErrorKind.CONNECTION_LOST),
    ]
    assert router.counters.rpc_target_lost == 2
    assert "fragile" not in router.registry.owners


async def test_a_reply_from_a_client_the_request_was_not_forwarded_to_is_dropped(
    router: HostRouter,
) -> None:
    caller = client(router, "caller")
    target = client(router, "target", "echo")
    client(router, "intruder")
    await router.on_frame("caller", request_message("r-1", "echo").SerializeToString())
    host_id = forwarded_request(target).request_id
    forged = response_message(host_id, b'"forged"')
    await router.on_frame("intruder", forged.SerializeToString())
    assert queued(caller) == []
    assert router.counters.unmatched_replies == 1
    genuine = response_message(host_id, b'"genuine"')
    await router.on_frame("target", genuine.SerializeToString())
    assert [r.payload.data for r in responses(caller)] == [b'"genuine"']


async def test_malformed_frames_and_frames_without_a_message_are_skipped(
    router: HostRouter,
) -> None:
    listener = client(router, "listener", "listener")
    client(router, "sender")
    subscribe(router, "listener", "after-junk", "listener")
    bad_topic = event_message("after-junk")
    bad_topic.cloudEvent.type = "spaces are not allowed"
    frame = event_message("after-junk").SerializeToString()
    for junk in (
        b"\xff\xff\xff\xff not a protobuf",
        b"",
        bad_topic.SerializeToString(),
    ):
        await router.on_frame("sender", junk)
    await router.on_frame("sender", frame)
    assert queued(listener) == [frame]
    assert router.counters.frames_received == 4
    assert router.counters.malformed_frames == 2  # the bytes, the topic type
    assert router.counters.unknown_frames == 1  # no message set


async def test_payloads_over_the_limit_are_refused_and_requests_answered() -> None:
    router = make_router(max_message_size=64)
    caller = client(router, "caller")
    target = client(router, "target", "big")
    subscribe(router, "target", "news", "big")
    request = request_message("r-1", "big")
    request.request.payload.data = b"x" * 65
    event = event_message("news")
    event.cloudEvent.binary_data = b"x" * 65
    for message in (request, event):
        await router.on_frame("caller", message.SerializeToString())
    [refused] = responses(caller)
    assert refused.request_id == "r-1"
    assert refused.metadata[ERROR_KIND_KEY] == RpcErrorKind.TOO_LARGE
    assert "max_message_size=64" in refused.error
    assert queued(target) == []
    assert router.counters.oversized_frames == 2


async def test_a_type_has_one_owner_who_alone_subscribes_it(
    router: HostRouter,
) -> None:
    client(router, "owner-7f3a", "solo")
    client(router, "other")
    with pytest.raises(HostRejection, match="another client") as taken:
        router.registry.register_agent_type("other", "solo")
    assert type(taken.value) is HostRejection
    assert "owner-7f3a" not in str(taken.value)  # a client id is all it takes
    with pytest.raises(NotOwnerError, match="only its owner"):
        router.registry.add_subscription("other", wire_subscription("t", "solo"))
    subscription_id = subscribe(router, "owner-7f3a", "t", "solo")
    with pytest.raises(NotOwnerError, match="added by another client"):
        router.registry.remove_subscription("other", subscription_id)
    with pytest.raises(HostRejection, match="does not exist") as unknown:
        router.registry.remove_subscription("other", "no-such-id")
    assert type(unknown.value) is HostRejection
    router.registry.remove_subscription("owner-7f3a", subscription_id)
    assert subscription_id not in router.registry.subscriptions
    assert router.registry.owners == {"solo": "owner-7f3a"}


async def test_others_subscriptions_for_a_type_go_when_its_owner_registers(
    router: HostRouter,
) -> None:
    client(router, "early")
    client(router, "publisher")
    subscribe(router, "early", "news", "latecomer")  # nobody owns it yet
    owner = client(router, "owner", "latecomer")
    await router.on_frame("publisher", event_message("news").SerializeToString())
    assert queued(owner) == []
    assert list(router.registry.subscriptions) == []
    assert router.counters.events_without_subscriber == 1


async def test_client_limits_refuse_what_is_over_them() -> None:
    limits = ClientLimits(max_agent_types=1, max_subscriptions=1, max_name_length=40)
    router = make_router(limits=limits)
    client(router, "c", "first")
    with pytest.raises(ClientLimitError, match="max_agent_types=1"):
        router.registry.register_agent_type("c", "second")
    subscribe(router, "c", "t1", "first")
    with pytest.raises(ClientLimitError, match="max_subscriptions=1"):
        subscribe(router, "c", "t2", "first")
    with pytest.raises(HostRejection, match="max_name_length=40"):
        router.registry.register_agent_type("c", "x" * 41)
    assert router.registry.owners == {"first": "c"}
    assert len(list(router.registry.subscriptions)) == 1


async def test_control_messages_go_by_agent_type_owner_or_client_id(
    router: HostRouter,
) -> None:
    control_a = router.registry.open_control_channel("a")
    control_b = router.registry.open_control_channel("b")
    router.registry.register_agent_type("b", "btype")
    to_b = pb.ControlMessage(rpc_id="c1", destination="agentid=btype/k")
    to_a = pb.ControlMessage(rpc_id="c2", destination="clientid=a")
    lost = [
        pb.ControlMessage(rpc_id="c3", destination="nowhere"),
        pb.ControlMessage(rpc_id="c4", destination="agentid=unknown/k"),
        pb.ControlMessage(rpc_id="c5", destination="clientid=gone"),
    ]
    for message in (to_b, to_a, *lost):
        await router.on_control_frame("a", message.SerializeToString())
    await router.on_control_frame("a", b"\xff\xff\xff\xff not a protobuf")
    assert queued(control_b) == [to_b.SerializeToString()]
    assert queued(control_a) == [to_a.SerializeToString()]
    assert router.counters.control_routed == 2
    assert router.counters.control_undeliverable == 3
    assert router.counters.malformed_frames == 1


async def test_an_unanswered_request_times_out_and_a_late_reply_is_dropped() -> None:
    router = make_router(rpc_timeout=0.05)
    caller = client(router, "caller")
    target = client(router, "target", "silent")
    await router.on_frame(
        "caller", request_message("r-1", "silent").SerializeToString()
    )
    host_id = forwarded_request(target).request_id
    frame = await bounded(caller.get())
    assert frame is not None
    response = pb.Message.FromString(frame).response
    assert response.request_id == "r-1"
    assert response.metadata[ERROR_KIND_KEY] == RpcErrorKind.TIMEOUT
    assert "did not reply within 0.05 s" in response.error
    assert router.counters.rpc_timed_out == 1
    await router.on_frame("target", response_message(host_id).SerializeToString())
    assert queued(caller) == []
    assert router.counters.unmatched_replies == 1


@pytest.mark.parametrize("caller_first", [True, False], ids=["caller", "target"])
async def test_closing_answers_pending_requests_and_ends_every_stream(
    router: HostRouter, caller_first: bool
) -> None:
    # Whichever client connected first, the caller's stream ends after the reply.
    if caller_first:
        caller = client(router, "caller")
        target = client(router, "target", "slow")
    else:
        target = client(router, "target", "slow")
        caller = client(router, "caller")
    control = router.registry.open_control_channel("caller")
    await router.on_frame("caller", request_message("r-1", "slow").SerializeToString())
    router.close()
    [response] = responses(caller)
    assert response.request_id == "r-1"
    assert response.metadata[ERROR_KIND_KEY] == RpcErrorKind.CONNECTION_LOST
    assert "shutting down" in response.error
    assert caller.closed and target.closed and control.closed
    assert not await caller.put(b"after close")
