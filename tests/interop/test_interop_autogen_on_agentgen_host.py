"""Unmodified AutoGen 0.7.5 workers talking to each other through ``GrpcHost``."""

from __future__ import annotations

import pytest

from agentgen.runtime.grpc import GrpcHost

from .autogen_peers import AutogenWorker
from .contract import KIND_TOPICS, SUBSCRIPTION_KINDS, subscriber_type
from .peer_process import PeerLauncher

pytestmark = pytest.mark.timeout(90)


def assert_routed_by_subscription_kind(worker: AutogenWorker) -> None:
    """Every delivery went to the agent whose subscription kind matches the topic."""
    for delivery in worker.deliveries():
        topic = delivery["topic"]
        agent_type = subscriber_type(worker.name, topic["type"])
        assert delivery["agent"] == f"{agent_type}/{topic['source']}", delivery


async def test_publish_between_autogen_workers_by_subscription_kind(
    agentgen_host: GrpcHost, peers: PeerLauncher
) -> None:
    alice = await AutogenWorker.start(peers, agentgen_host.address, "alice")
    bob = await AutogenWorker.start(peers, agentgen_host.address, "bob")

    for seq, kind in enumerate(SUBSCRIPTION_KINDS, start=1):
        await alice.publish(
            KIND_TOPICS[kind],
            f"source{seq}",
            f"hello {kind}",
            seq,
            sender="alice_publisher/p1",
            message_id=f"message-{kind}",
        )

    for seq, kind in enumerate(SUBSCRIPTION_KINDS, start=1):
        for worker in (bob, alice):  # the host also serves the publisher's own agents
            delivery = await worker.received(
                f"{worker.agent_type(kind)}/source{seq}", seq
            )
            assert delivery["message"] == {"text": f"hello {kind}", "seq": seq}
            assert delivery["message_type"] == "interop.v1.Ping"
            assert delivery["sender"] == "alice_publisher/p1"
            assert delivery["message_id"] == f"message-{kind}"
            assert delivery["topic"] == {
                "type": KIND_TOPICS[kind],
                "source": f"source{seq}",
            }
            assert delivery["is_rpc"] is False
    assert (
        bob.decoded_content_types("interop.v1.Ping") == ["application/x-protobuf"] * 3
    )
    for worker in (alice, bob):
        assert_routed_by_subscription_kind(worker)


async def test_rpc_between_autogen_workers(
    agentgen_host: GrpcHost, peers: PeerLauncher
) -> None:
    alice = await AutogenWorker.start(peers, agentgen_host.address, "alice")
    bob = await AutogenWorker.start(peers, agentgen_host.address, "bob")
    request = {
        "text": "hi",
        "bigNumber": str(2**40),
        "tags": ["a", "b"],
        "mood": "MOOD_HAPPY",
        "counts": {"x": 2},
    }

    outcome = await alice.send("bob_echo", "k1", request, sender="alice_echo/caller")

    assert outcome["event"] == "reply", outcome
    assert outcome["reply"] == {
        "text": "echo:hi",
        "responder": "bob_echo/k1",
        "bigNumber": str(2**40 + 1),
        "tags": ["b", "a"],
        "mood": "MOOD_HAPPY",
        "counts": {"x": 4},
    }
    handled = await bob.received("bob_echo/k1")
    assert handled["sender"] == "alice_echo/caller"
    assert handled["is_rpc"] is True
    assert handled["topic"] is None
    assert handled["message"] == request
    # AutoGen sends and answers RPCs in JSON.
    assert bob.decoded_content_types("interop.v1.EchoRequest") == ["application/json"]
    assert alice.decoded_content_types("interop.v1.EchoReply") == ["application/json"]


async def test_rpc_errors_reach_autogen_callers(
    agentgen_host: GrpcHost, peers: PeerLauncher
) -> None:
    alice = await AutogenWorker.start(peers, agentgen_host.address, "alice")
    await AutogenWorker.start(peers, agentgen_host.address, "bob")

    raised = await alice.send("bob_echo", "k1", {"text": "raise:handler failed"})
    # AutoGen's host drops a request for an unknown type and the caller hangs;
    # GrpcHost answers it with RpcResponse.error, which AutoGen raises.
    unknown = await alice.send("nobody_here", "k1", {"text": "anyone?"}, timeout=10.0)

    assert raised["event"] == "rpc_error"
    assert (raised["error_type"], raised["error"]) == ("Exception", "handler failed")
    assert unknown["event"] == "rpc_error"
    assert unknown["error_type"] == "Exception", unknown
    assert "nobody_here" in unknown["error"]


async def test_autogen_callers_with_equal_request_ids_get_their_own_replies(
    agentgen_host: GrpcHost, peers: PeerLauncher
) -> None:
    """AutoGen numbers requests per worker from "1"; on its own host two callers
    with the same id in flight to one worker collide (autogen#7016)."""
    bob = await AutogenWorker.start(peers, agentgen_host.address, "bob")
    alice = await AutogenWorker.start(peers, agentgen_host.address, "alice")
    carol = await AutogenWorker.start(peers, agentgen_host.address, "carol")

    from_alice = await alice.start_send("bob_echo", "shared", {"text": "hold:alice"})
    from_carol = await carol.start_send("bob_echo", "shared", {"text": "hold:carol"})
    held = [
        await bob.received("bob_echo/shared", text=f"hold:{caller}")
        for caller in ("alice", "carol")
    ]
    await bob.release_held_replies()

    # Both callers sent request id "1"; GrpcHost gave the target distinct ones.
    assert held[0]["message_id"] != held[1]["message_id"]
    alice_outcome = await alice.outcome(from_alice)
    carol_outcome = await carol.outcome(from_carol)
    assert alice_outcome["event"] == "reply", alice_outcome
    assert alice_outcome["reply"]["text"] == "echo:hold:alice"
    assert carol_outcome["event"] == "reply", carol_outcome
    assert carol_outcome["reply"]["text"] == "echo:hold:carol"
