"""An agentgen worker and an AutoGen 0.7.5 worker on one host, both ways.

Every test runs twice (the ``host_address`` fixture): on AutoGen's own
``GrpcWorkerAgentRuntimeHost`` (in the AutoGen venv) and on agentgen's
``GrpcHost``. The agentgen side runs the
agents generated from ``interop/v1/interop.proto``; the AutoGen side the
``RoutedAgent``s of ``peers/autogen_worker.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from google.protobuf import json_format

from agentgen.runtime import AgentId, RemoteError, RpcTimeoutError, TopicId
from agentgen.runtime.grpc import ConnectionLostError, GrpcHost

from .agentgen_side import AgentgenWorker, echo_reply, running_agentgen_worker
from .autogen_peers import AutogenWorker
from .contract import KIND_TOPICS, SUBSCRIPTION_KINDS, subscriber_type
from .gencode import AgentgenGencode
from .peer_process import PeerLauncher

pytestmark = pytest.mark.timeout(90)

REQUEST_JSON: dict[str, Any] = {
    "text": "hi",
    "bigNumber": str(2**40),
    "tags": ["a", "b"],
    "mood": "MOOD_GRUMPY",
    "counts": {"x": 2, "y": 3},
}


@pytest.fixture
async def agentgen(
    host_address: str, agentgen_gencode: AgentgenGencode
) -> AsyncIterator[AgentgenWorker]:
    """A started agentgen worker with the contract's recording agents."""
    async with running_agentgen_worker(
        host_address, agentgen_gencode.pb2, agentgen_gencode.agents
    ) as worker:
        yield worker


@pytest.fixture
async def autogen(host_address: str, peers: PeerLauncher) -> AutogenWorker:
    return await AutogenWorker.start(peers, host_address, "autogen")


async def test_agentgen_batches_only_on_an_agentgen_host(
    request: pytest.FixtureRequest, agentgen: AgentgenWorker
) -> None:
    # AutoGen's host does not offer the batch stream: OpenChannel, one frame
    # per gRPC message, as before. (The tests below pass either way.)
    on_agentgen_host = "agentgen-host" in request.node.callspec.id
    assert agentgen.runtime.batched is on_agentgen_host


async def test_publish_from_agentgen_to_autogen(
    agentgen: AgentgenWorker, autogen: AutogenWorker, agentgen_gencode: AgentgenGencode
) -> None:
    pb2 = agentgen_gencode.pb2
    for seq, kind in enumerate(SUBSCRIPTION_KINDS, start=1):
        await agentgen.runtime.publish_message(
            pb2.Ping(text=f"to {kind}", seq=seq),
            TopicId(KIND_TOPICS[kind], f"src{seq}"),
            sender=AgentId("agentgen_publisher", "p1"),
            message_id=f"agentgen-{kind}",
        )
    # No topic and no sender: the contract's default topic, no sender attributes.
    await agentgen.runtime.publish_message(pb2.Ping(text="to default topic", seq=9))

    for seq, kind in enumerate(SUBSCRIPTION_KINDS, start=1):
        delivery = await autogen.received(f"autogen_{kind}/src{seq}", seq)
        assert delivery["message"] == {"text": f"to {kind}", "seq": seq}
        assert delivery["sender"] == "agentgen_publisher/p1"
        assert delivery["message_id"] == f"agentgen-{kind}"
        assert delivery["topic"] == {"type": KIND_TOPICS[kind], "source": f"src{seq}"}
        assert delivery["is_rpc"] is False
    implicit = await autogen.received("autogen_typed/default", 9)
    assert implicit["sender"] is None
    assert implicit["topic"] == {"type": "interop.events", "source": "default"}
    assert implicit["message_id"]
    assert set(autogen.decoded_content_types("interop.v1.Ping")) == {
        "application/x-protobuf"
    }
    for delivery in autogen.deliveries():
        agent = delivery["agent"].split("/")[0]
        assert agent == subscriber_type("autogen", delivery["topic"]["type"]), delivery


@pytest.mark.parametrize("payload_format", ["protobuf", "json"])
async def test_publish_from_autogen_to_agentgen(
    host_address: str,
    peers: PeerLauncher,
    agentgen: AgentgenWorker,
    agentgen_gencode: AgentgenGencode,
    payload_format: str,
) -> None:
    autogen = await AutogenWorker.start(peers, host_address, "autogen", payload_format)
    pb2 = agentgen_gencode.pb2
    for seq, kind in enumerate(SUBSCRIPTION_KINDS, start=1):
        await autogen.publish(
            KIND_TOPICS[kind],
            f"src{seq}",
            f"from autogen to {kind}",
            seq,
            sender="autogen_publisher/p1",
            message_id=f"autogen-{kind}",
        )
    await autogen.publish(KIND_TOPICS["typed"], "anonymous", "no sender", 4)

    for seq, kind in enumerate(SUBSCRIPTION_KINDS, start=1):
        delivery = await agentgen.inbox.to(AgentId(f"agentgen_{kind}", f"src{seq}"))
        assert delivery.message == pb2.Ping(text=f"from autogen to {kind}", seq=seq)
        assert delivery.ctx.sender == AgentId("autogen_publisher", "p1")
        assert delivery.ctx.message_id == f"autogen-{kind}"
        assert delivery.ctx.topic_id == TopicId(KIND_TOPICS[kind], f"src{seq}")
        assert delivery.ctx.is_rpc is False
    # AutoGen writes sender "unknown/unknown" when there is none: that is None.
    anonymous = await agentgen.inbox.to(AgentId("agentgen_typed", "anonymous"))
    assert anonymous.ctx.sender is None
    for delivery in agentgen.inbox.deliveries:
        assert delivery.ctx.topic_id is not None
        expected = subscriber_type("agentgen", delivery.ctx.topic_id.type)
        assert delivery.agent.type == expected, delivery


async def test_rpc_from_autogen_to_agentgen(
    agentgen: AgentgenWorker, autogen: AutogenWorker, agentgen_gencode: AgentgenGencode
) -> None:
    pb2 = agentgen_gencode.pb2

    outcome = await autogen.send(
        "agentgen_echo", "k1", REQUEST_JSON, sender="autogen_echo/caller"
    )
    failed = await autogen.send("agentgen_echo", "k1", {"text": "raise:it broke"})

    assert outcome["event"] == "reply", outcome
    request = json_format.ParseDict(REQUEST_JSON, pb2.EchoRequest())
    expected = echo_reply(pb2, request, AgentId("agentgen_echo", "k1"))
    assert json_format.ParseDict(outcome["reply"], pb2.EchoReply()) == expected
    handled = await agentgen.inbox.to(AgentId("agentgen_echo", "k1"))
    assert handled.message == request
    assert handled.ctx.sender == AgentId("autogen_echo", "caller")
    assert handled.ctx.is_rpc is True
    assert handled.ctx.topic_id is None
    assert handled.ctx.message_id
    # AutoGen sends JSON; agentgen answers in the request's content type.
    assert autogen.decoded_content_types("interop.v1.EchoReply") == ["application/json"]
    assert failed["event"] == "rpc_error", failed
    assert failed["error_type"] == "Exception"
    assert "it broke" in failed["error"]


async def test_rpc_from_agentgen_to_autogen(
    agentgen: AgentgenWorker, autogen: AutogenWorker, agentgen_gencode: AgentgenGencode
) -> None:
    pb2, agents = agentgen_gencode.pb2, agentgen_gencode.agents
    client = agents.EchoClient(
        agentgen.runtime,
        "k2",
        sender=AgentId("agentgen_caller", "c1"),
        agent_type="autogen_echo",
    )
    request = json_format.ParseDict(REQUEST_JSON, pb2.EchoRequest())

    reply = await client.echo(request, timeout=10.0)
    with pytest.raises(RemoteError) as raised:
        await client.echo(pb2.EchoRequest(text="raise:autogen broke"), timeout=10.0)

    assert reply == echo_reply(pb2, request, AgentId("autogen_echo", "k2"))
    assert "autogen broke" in str(raised.value)
    handled = await autogen.received("autogen_echo/k2", text="hi")
    await autogen.received("autogen_echo/k2", text="raise:autogen broke")
    assert json_format.ParseDict(handled["message"], pb2.EchoRequest()) == request
    assert handled["sender"] == "agentgen_caller/c1"
    assert handled["is_rpc"] is True
    assert handled["topic"] is None
    assert handled["message_id"]
    # agentgen sends RPCs in JSON by default, what AutoGen Python agents read;
    # AutoGen answers in JSON (the JSON serializer the peer registers).
    assert autogen.decoded_content_types("interop.v1.EchoRequest") == [
        "application/json",
        "application/json",
    ]


async def test_agentgen_call_to_autogen_handler_without_reply_times_out(
    agentgen: AgentgenWorker, autogen: AutogenWorker, agentgen_gencode: AgentgenGencode
) -> None:
    """AutoGen sends no response when a handler returns None (it cannot
    serialize None) and its host never answers for it: the call must still end."""
    pb2, agents = agentgen_gencode.pb2, agentgen_gencode.agents
    client = agents.TypedListenerClient(
        agentgen.runtime, "k5", agent_type="autogen_typed"
    )

    with pytest.raises(RpcTimeoutError):
        await client.on_ping(pb2.Ping(text="no reply possible", seq=5), timeout=1.0)

    delivery = await autogen.received("autogen_typed/k5", seq=5)
    assert delivery["is_rpc"] is True


async def test_agentgen_call_fails_fast_when_autogen_worker_disconnects(
    agentgen_host: GrpcHost, peers: PeerLauncher, agentgen_gencode: AgentgenGencode
) -> None:
    """On GrpcHost, a call pending on a worker that goes away fails at once
    (AutoGen's host cancels it silently, leaving the caller to its timeout)."""
    pb2, agents = agentgen_gencode.pb2, agentgen_gencode.agents
    async with running_agentgen_worker(agentgen_host.address, pb2, agents) as agentgen:
        autogen = await AutogenWorker.start(peers, agentgen_host.address, "autogen")
        client = agents.EchoClient(agentgen.runtime, "k6", agent_type="autogen_echo")
        call = asyncio.create_task(
            client.echo(pb2.EchoRequest(text="hold:until killed"), timeout=60.0)
        )
        await autogen.received("autogen_echo/k6", text="hold:until killed")

        await autogen.peer.close()

        with pytest.raises(ConnectionLostError):
            await asyncio.wait_for(call, 15.0)  # far sooner than the call's 60 s
