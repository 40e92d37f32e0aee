"""A client may act only on what it owns: its agent types and subscriptions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable

import grpc
import pytest

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc import ClientLimits, GrpcHost
from agentgen.runtime.grpc.protocol import service

from .hostile import (
    RawPeer,
    event_message,
    recorded_logs,
    request_message,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def host() -> AsyncIterator[GrpcHost]:
    async with GrpcHost("127.0.0.1:0", rpc_timeout=5) as running:
        yield running


async def _remove(peer: RawPeer, subscription_id: str) -> None:
    await peer.unary(
        service.REMOVE_SUBSCRIPTION,
        pb.RemoveSubscriptionRequest(id=subscription_id),
        pb.RemoveSubscriptionResponse,
    )


async def _listed(peer: RawPeer) -> set[str]:
    response = await peer.unary(
        service.GET_SUBSCRIPTIONS,
        pb.GetSubscriptionsRequest(),
        pb.GetSubscriptionsResponse,
    )
    return {subscription.id for subscription in response.subscriptions}


async def _refused(call: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return refused.value


async def test_a_client_cannot_remove_another_clients_subscription(
    host: GrpcHost,
) -> None:
    async with (
        RawPeer(host.address) as owner,
        RawPeer(host.address) as intruder,
        RawPeer(host.address) as publisher,
    ):
        await owner.register("owned")
        subscription_id = await owner.subscribe("news", "owned")
        refused = await _refused(_remove(intruder, subscription_id))
        assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "added by another client" in (refused.details() or "")
        assert owner.client_id not in (refused.details() or "")
        assert subscription_id in await _listed(owner)
        await publisher.send(event_message("news", event_id="still-routed"))
        assert (await owner.receive()).cloudEvent.id == "still-routed"
        # Its owner can, and the id is then unknown to everyone.
        await _remove(owner, subscription_id)
        assert subscription_id not in await _listed(owner)
        unknown = await _refused(_remove(intruder, subscription_id))
        assert unknown.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "does not exist" in (unknown.details() or "")


async def test_a_client_cannot_subscribe_another_clients_agent_type(
    host: GrpcHost,
) -> None:
    async with (
        RawPeer(host.address) as owner,
        RawPeer(host.address) as intruder,
    ):
        await owner.register("owned")
        for prefix in (False, True):
            refused = await _refused(intruder.subscribe("spam", "owned", prefix=prefix))
            assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "agent type owned belongs to another client" in (
                refused.details() or ""
            )
        assert await _listed(owner) == set()
        await intruder.send(event_message("spam"))
        await intruder.send(event_message("spam.x"))
        await wait_until(
            lambda: host.counters.events_routed == 2, "the host to route both"
        )
        assert host.counters.event_deliveries == 0
        assert owner.frames.empty()


async def test_subscriptions_made_before_a_type_had_an_owner_go_to_its_owner(
    host: GrpcHost,
) -> None:
    """Subscriptions for a type nobody owned yet are its future owner's to make."""
    async with (
        RawPeer(host.address) as early,
        RawPeer(host.address) as owner,
    ):
        squatted = await early.subscribe("news", "later")
        with recorded_logs() as logs:
            await owner.register("later")
        assert squatted not in await _listed(owner)
        assert len(logs.matching("added by other clients")) == 1
        # The owner's own subscription with the same rule is now accepted.
        own = await owner.subscribe("news", "later")
        assert await _listed(owner) == {own}
        await early.send(event_message("news", event_id="to-owner"))
        assert (await owner.receive()).cloudEvent.id == "to-owner"


async def test_an_owner_keeps_subscriptions_it_made_before_registering(
    host: GrpcHost,
) -> None:
    async with RawPeer(host.address) as owner:
        early = await owner.subscribe("news", "mine")
        await owner.register("mine")
        assert await _listed(owner) == {early}


async def test_registering_another_clients_type_keeps_autogens_code_not_its_id(
    host: GrpcHost,
) -> None:
    async with RawPeer(host.address) as owner, RawPeer(host.address) as intruder:
        await owner.register("taken")
        refused = await _refused(intruder.register("taken"))
        assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.details() == (
            "Agent type taken already registered with another client."
        )
        again = await _refused(owner.register("taken"))
        assert owner.client_id in (again.details() or "")  # its own id only
        assert host.agent_types == {"taken": owner.client_id}


async def test_only_the_client_a_request_went_to_can_answer_it(
    host: GrpcHost,
) -> None:
    async with (
        RawPeer(host.address) as target,
        RawPeer(host.address) as caller,
        RawPeer(host.address) as intruder,
    ):
        await target.register("served")
        await caller.send(request_message("r-1", "served"))
        forwarded = (await target.receive()).request
        forged = pb.Message()
        forged.response.request_id = forwarded.request_id
        forged.response.payload.data_type = "google.protobuf.StringValue"
        forged.response.payload.data_content_type = "application/json"
        forged.response.payload.data = b'"forged"'
        with recorded_logs() as logs:
            await intruder.send(forged)
            await wait_until(
                lambda: host.counters.unmatched_replies == 1, "the forged reply"
            )
        assert len(logs.matching("was not forwarded to it", level=0)) == 1
        genuine = pb.Message()
        genuine.response.request_id = forwarded.request_id
        genuine.response.payload.data = b'"genuine"'
        await target.send(genuine)
        reply = (await caller.receive()).response
        assert (reply.request_id, reply.payload.data) == ("r-1", b'"genuine"')
        assert caller.frames.empty()
        assert intruder.frames.empty()
    assert host.counters.rpc_replies == 1


async def test_registrations_without_a_channel_are_forgotten() -> None:
    limits = ClientLimits(unattached_grace=0.2)
    async with GrpcHost("127.0.0.1:0", limits=limits) as host:
        squatter = RawPeer(host.address)
        await squatter.register("squatted")
        await squatter.subscribe("news", "squatted")
        with recorded_logs() as logs:
            await wait_until(
                lambda: "squatted" not in host.agent_types, "the grace to pass"
            )
        assert len(logs.matching("opened no channel within")) == 1
        async with RawPeer(host.address) as owner:
            await owner.register("squatted")
            assert await _listed(owner) == set()
        await squatter.close()


async def test_registrations_followed_by_a_channel_are_kept() -> None:
    limits = ClientLimits(unattached_grace=0.2)
    async with GrpcHost("127.0.0.1:0", limits=limits) as host:
        early = RawPeer(host.address)
        await early.register("early")
        await early.open()
        # A later unattached client's timer fires after the first one's: once
        # it has been forgotten, the first client's grace is over too.
        probe = RawPeer(host.address)
        await probe.register("probe")
        await wait_until(lambda: "probe" not in host.agent_types, "the probe's grace")
        assert host.agent_types == {"early": early.client_id}
        await early.close()
        await probe.close()
