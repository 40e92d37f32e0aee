"""Several clients per agent type (``by-key``, ``fan-out``), without gRPC.

The registry's admission and ownership rules per mode, the placement of keys
(rendezvous hashing), and where the router sends events and RPCs.
"""

from __future__ import annotations

import pytest

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc.host.placement import Placement, TypeSharing
from agentgen.runtime.grpc.host.registry import HostRejection, NotOwnerError
from agentgen.runtime.placement import rendezvous_choice
from agentgen.runtime.wire.frames import DELIVER_TYPES_ATTRIBUTE
from tests.support.grpc_harness import event_message, request_message

from .routing import client, forwarded_request, make_router, queued, subscribe

KEYS = [f"key-{n}" for n in range(300)]


def test_modes_parse_and_an_unknown_one_is_refused_with_the_choices() -> None:
    assert TypeSharing.parse("by-key") is TypeSharing.BY_KEY
    with pytest.raises(ValueError, match="exclusive, by-key, fan-out"):
        TypeSharing.parse("round-robin")


def test_exclusive_refuses_a_second_client_as_autogen_does() -> None:
    router = make_router()
    client(router, "a", "Echo")
    with pytest.raises(HostRejection, match="already registered with another"):
        router.registry.register_agent_type("b", "Echo")


@pytest.mark.parametrize("mode", [TypeSharing.BY_KEY, TypeSharing.FAN_OUT])
def test_shared_modes_admit_several_clients_but_not_one_twice(
    mode: TypeSharing,
) -> None:
    router = make_router(type_sharing=mode)
    client(router, "a", "Echo")
    client(router, "b", "Echo")
    assert router.registry.serving["Echo"] == ["a", "b"]
    with pytest.raises(HostRejection, match="already registered with client a"):
        router.registry.register_agent_type("a", "Echo")


@pytest.mark.parametrize("mode", [TypeSharing.BY_KEY, TypeSharing.FAN_OUT])
def test_subscriptions_stay_per_client_in_shared_modes(mode: TypeSharing) -> None:
    router = make_router(type_sharing=mode)
    client(router, "a", "Echo")
    client(router, "b", "Echo")
    client(router, "c", "Other")
    first = subscribe(router, "a", "news", "Echo")
    subscribe(router, "b", "news", "Echo")  # the same rule, another client: fine
    with pytest.raises(HostRejection, match="already exists"):
        subscribe(router, "a", "news", "Echo")  # its own duplicate: refused
    with pytest.raises(NotOwnerError, match="served by other clients"):
        subscribe(router, "c", "news", "Echo")
    with pytest.raises(NotOwnerError):
        router.registry.remove_subscription("b", first)
    router.registry.remove_subscription("a", first)
    assert len(router.registry.subscriptions) == 1


@pytest.mark.parametrize("mode", list(TypeSharing))
def test_the_type_is_free_once_its_last_client_left(mode: TypeSharing) -> None:
    router = make_router(type_sharing=mode)
    outboxes = {name: client(router, name, "Echo") for name in ("a",)}
    if mode is not TypeSharing.EXCLUSIVE:
        outboxes["b"] = client(router, "b", "Echo")
    for name, outbox in outboxes.items():
        subscribe(router, name, "news", "Echo")
        router.registry.close_channel(name, outbox)
    assert "Echo" not in router.registry.serving
    assert len(router.registry.subscriptions) == 0
    client(router, "late", "Echo")  # anyone may take it now
    assert router.registry.owners == {"Echo": "late"}


def test_rendezvous_keeps_keys_and_moves_only_a_departed_members_keys() -> None:
    members = ["w1", "w2", "w3"]
    before = {key: rendezvous_choice(key, members) for key in KEYS}
    assert before == {key: rendezvous_choice(key, reversed(members)) for key in KEYS}
    assert set(before.values()) == set(members)
    after = {key: rendezvous_choice(key, ["w1", "w3"]) for key in KEYS}
    moved = {key for key in KEYS if before[key] != after[key]}
    assert moved == {key for key in KEYS if before[key] == "w2"}


def test_fan_out_rpcs_stick_to_their_first_client_while_it_serves() -> None:
    serving = {"Echo": ["a"]}
    placement = Placement(TypeSharing.FAN_OUT, serving)
    first = {key: placement.rpc_client("Echo", key) for key in KEYS}
    serving["Echo"].append("b")  # a newcomer takes no key that is already placed
    placement.forget()
    assert {key: placement.rpc_client("Echo", key) for key in KEYS} == first
    serving["Echo"].remove("a")
    placement.forget()
    assert {placement.rpc_client("Echo", key) for key in KEYS} == {"b"}


async def test_by_key_sends_each_event_to_the_one_client_serving_its_key() -> None:
    router = make_router(type_sharing=TypeSharing.BY_KEY)
    outboxes = {name: client(router, name, "Echo") for name in ("a", "b", "c")}
    for name in outboxes:
        subscribe(router, name, "news", "Echo")
    publisher = client(router, "pub")
    keys = KEYS[:90]  # fewer than an outbox holds (100): nothing waits for room
    for key in keys:
        await router.on_frame("pub", event_message("news", key).SerializeToString())
    received = {
        name: [pb.Message.FromString(f).cloudEvent.source for f in queued(outbox)]
        for name, outbox in outboxes.items()
    }
    assert sorted(k for got in received.values() for k in got) == sorted(keys)
    for name, got in received.items():
        assert got, f"client {name} got no key"
        assert all(rendezvous_choice(k, ["a", "b", "c"]) == name for k in got)
    assert queued(publisher) == []


async def test_by_key_tells_a_client_which_of_its_types_an_event_is_for() -> None:
    router = make_router(type_sharing=TypeSharing.BY_KEY)
    both = client(router, "both", "T1", "T2")
    only = client(router, "only", "T2")
    subscribe(router, "both", "news", "T1")
    subscribe(router, "both", "news", "T2")
    subscribe(router, "only", "news", "T2")
    key = next(k for k in KEYS if rendezvous_choice(k, ["both", "only"]) == "only")
    frame = event_message("news", key).SerializeToString()
    await router.on_frame("only", frame)
    [to_both] = queued(both)
    attributes = pb.Message.FromString(to_both).cloudEvent.attributes
    assert attributes[DELIVER_TYPES_ATTRIBUTE].ce_string == "T1"
    [to_only] = queued(only)
    assert to_only == frame  # its only type: the bytes as received


async def test_fan_out_sends_each_event_to_every_client_of_a_subscribed_type() -> None:
    router = make_router(type_sharing=TypeSharing.FAN_OUT)
    outboxes = [client(router, name, "Echo") for name in ("a", "b")]
    subscribe(router, "a", "news", "Echo")
    frame = event_message("news", "k1").SerializeToString()
    await router.on_frame("a", frame)
    assert [queued(outbox) for outbox in outboxes] == [[frame], [frame]]


@pytest.mark.parametrize("mode", [TypeSharing.BY_KEY, TypeSharing.FAN_OUT])
async def test_every_rpc_for_a_key_goes_to_one_client(mode: TypeSharing) -> None:
    router = make_router(type_sharing=mode)
    outboxes = {name: client(router, name, "Echo") for name in ("a", "b", "c")}
    client(router, "caller")
    placed: dict[str, str] = {}
    for round_number in range(2):
        for key in KEYS[:60]:
            request = request_message(f"{round_number}-{key}", "Echo", key)
            await router.on_frame("caller", request.SerializeToString())
            [(name, forwarded)] = [
                (name, forwarded_request(outbox))
                for name, outbox in outboxes.items()
                if len(outbox)
            ]
            assert forwarded.target.key == key
            assert placed.setdefault(key, name) == name
    assert set(placed.values()) == {"a", "b", "c"}
