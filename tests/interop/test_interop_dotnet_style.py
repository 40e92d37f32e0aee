"""A raw peer sending exactly what the .NET worker sends (reference section 7.1).

First the peer is checked against a real AutoGen worker (which the reference
verified to accept .NET-style events and protobuf RPC payloads), then it
meets an agentgen worker: its events and RPCs must be understood and its RPCs
answered in kind (a protobuf ``Any`` payload), and agentgen's publishes must
be readable the way .NET reads them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from agentgen.protos import agent_worker_pb2
from agentgen.runtime import PROTOBUF_CONTENT_TYPE, AgentId, TopicId

from .agentgen_side import AgentgenWorker, echo_reply, running_agentgen_worker
from .autogen_peers import AutogenWorker
from .contract import EVENTS_TOPIC
from .dotnet_peer import DotnetStylePeer, unpack_any_bytes
from .gencode import AgentgenGencode
from .peer_process import PeerLauncher

pytestmark = pytest.mark.timeout(90)

DOTNET_LISTENER = "DotnetListener"
DOTNET_ECHO = "DotnetEcho"


def response_to(request_id: str) -> Callable[[agent_worker_pb2.Message], bool]:
    """Matches the RpcResponse frame answering ``request_id``."""
    return (
        lambda frame: frame.WhichOneof("message") == "response"
        and frame.response.request_id == request_id
    )


@pytest.fixture
async def dotnet(host_address: str) -> AsyncIterator[DotnetStylePeer]:
    """A .NET-style worker connection to the host (AutoGen's, then ours)."""
    peer = await DotnetStylePeer.connect(host_address)
    try:
        yield peer
    finally:
        await peer.close()


async def test_autogen_worker_accepts_the_dotnet_style_peer(
    host_address: str,
    dotnet: DotnetStylePeer,
    peers: PeerLauncher,
    agentgen_gencode: AgentgenGencode,
) -> None:
    """The emulation is faithful: AutoGen reads it as it reads .NET."""
    pb2 = agentgen_gencode.pb2
    autogen = await AutogenWorker.start(peers, host_address, "autogen")

    await dotnet.publish(
        pb2.Ping(text="from dotnet", seq=7), EVENTS_TOPIC, "dotnet-src", "dotnet-msg-1"
    )
    request_id = await dotnet.send_request(
        pb2.EchoRequest(text="rpc from dotnet"), "autogen_echo", "k1"
    )

    delivery = await autogen.received("autogen_typed/dotnet-src", seq=7)
    assert delivery["sender"] is None
    assert delivery["message_id"] == "dotnet-msg-1"
    assert delivery["message"] == {"text": "from dotnet", "seq": 7}
    response = await dotnet.wait_for(response_to(request_id), what="RPC response")
    assert response.response.error == ""
    handled = await autogen.received("autogen_echo/k1")
    assert handled["message"] == {"text": "rpc from dotnet"}
    assert handled["sender"] is None
    # AutoGen decodes the Any payload but always answers in JSON (its .NET gap).
    assert autogen.decoded_content_types("interop.v1.EchoRequest") == [
        "application/x-protobuf"
    ]
    assert response.response.payload.data_content_type == "application/json"


@pytest.fixture
async def agentgen(
    host_address: str, agentgen_gencode: AgentgenGencode
) -> AsyncIterator[AgentgenWorker]:
    """An agentgen worker that calls the .NET-style agent type in protobuf."""
    async with running_agentgen_worker(
        host_address,
        agentgen_gencode.pb2,
        agentgen_gencode.agents,
        rpc_content_types={DOTNET_ECHO: PROTOBUF_CONTENT_TYPE},
    ) as worker:
        yield worker


async def test_dotnet_style_event_reaches_agentgen_without_sender(
    dotnet: DotnetStylePeer, agentgen: AgentgenWorker, agentgen_gencode: AgentgenGencode
) -> None:
    pb2 = agentgen_gencode.pb2

    await dotnet.publish(
        pb2.Ping(text="dotnet event", seq=11), EVENTS_TOPIC, "dotnet-src", "dotnet-msg"
    )

    delivery = await agentgen.inbox.to(AgentId("agentgen_typed", "dotnet-src"))
    assert delivery.message == pb2.Ping(text="dotnet event", seq=11)
    assert delivery.ctx.sender is None
    assert delivery.ctx.message_id == "dotnet-msg"
    assert delivery.ctx.topic_id == TopicId(EVENTS_TOPIC, "dotnet-src")
    assert delivery.ctx.is_rpc is False


async def test_dotnet_style_rpc_is_answered_with_protobuf_any(
    dotnet: DotnetStylePeer, agentgen: AgentgenWorker, agentgen_gencode: AgentgenGencode
) -> None:
    pb2 = agentgen_gencode.pb2
    request = pb2.EchoRequest(
        text="rpc from dotnet", big_number=-(2**50), tags=["x"], counts={"n": 21}
    )

    ok_id = await dotnet.send_request(
        request, "agentgen_echo", "k3", source=("DotnetCaller", "c1")
    )
    failing_id = await dotnet.send_request(
        pb2.EchoRequest(text="raise:dotnet made it fail"), "agentgen_echo", "k3"
    )

    ok = (await dotnet.wait_for(response_to(ok_id), what="RPC response")).response
    assert ok.error == ""
    assert ok.payload.data_content_type == PROTOBUF_CONTENT_TYPE
    assert ok.payload.data_type == "interop.v1.EchoReply"
    reply = unpack_any_bytes(ok.payload.data, pb2.EchoReply)
    assert reply == echo_reply(pb2, request, AgentId("agentgen_echo", "k3"))
    handled = await agentgen.inbox.to(AgentId("agentgen_echo", "k3"))
    assert handled.message == request
    assert handled.ctx.sender == AgentId("DotnetCaller", "c1")
    assert handled.ctx.is_rpc is True
    failed = (await dotnet.wait_for(response_to(failing_id), what="error")).response
    assert "dotnet made it fail" in failed.error
    assert not failed.HasField("payload")


async def test_agentgen_publish_reads_as_dotnet_reads_it(
    dotnet: DotnetStylePeer, agentgen: AgentgenWorker, agentgen_gencode: AgentgenGencode
) -> None:
    pb2 = agentgen_gencode.pb2
    await dotnet.register_agent(DOTNET_LISTENER)
    await dotnet.add_type_subscription(EVENTS_TOPIC, DOTNET_LISTENER)

    await agentgen.runtime.publish_message(
        pb2.Ping(text="to dotnet", seq=12),
        TopicId(EVENTS_TOPIC, "to-dotnet"),
        sender=AgentId("agentgen_publisher", "p1"),
        message_id="agentgen-to-dotnet",
    )

    frame = await dotnet.wait_for(
        lambda frame: frame.WhichOneof("message") == "cloudEvent"
        and frame.cloudEvent.id == "agentgen-to-dotnet",
        what="agentgen's event",
    )
    event = frame.cloudEvent
    # What .NET's HandlePublish requires: proto_data, and dataschema to find
    # the type; then the topic from type/source and the sender attributes.
    assert event.WhichOneof("data") == "proto_data"
    attributes = event.attributes
    assert attributes["dataschema"].ce_string == "interop.v1.Ping"
    assert attributes["datacontenttype"].ce_string == PROTOBUF_CONTENT_TYPE
    assert attributes["agmsgkind"].ce_string == "publish"
    assert (event.type, event.source) == (EVENTS_TOPIC, "to-dotnet")
    assert attributes["agagentsendertype"].ce_string == "agentgen_publisher"
    assert attributes["agagentsenderkey"].ce_string == "p1"
    ping = pb2.Ping()
    assert event.proto_data.Unpack(ping)
    assert ping == pb2.Ping(text="to dotnet", seq=12)


async def test_agentgen_rpc_to_dotnet_style_agent(
    dotnet: DotnetStylePeer, agentgen: AgentgenWorker, agentgen_gencode: AgentgenGencode
) -> None:
    pb2, agents = agentgen_gencode.pb2, agentgen_gencode.agents
    await dotnet.register_agent(DOTNET_ECHO)
    client = agents.EchoClient(
        agentgen.runtime,
        "k4",
        sender=AgentId("agentgen_caller", "c2"),
        agent_type=DOTNET_ECHO,
    )
    request = pb2.EchoRequest(text="to dotnet", tags=["p", "q"], mood=pb2.MOOD_HAPPY)

    call = asyncio.create_task(client.echo(request, timeout=10.0))
    frame = await dotnet.wait_for(
        lambda frame: frame.WhichOneof("message") == "request"
        and frame.request.target.type == DOTNET_ECHO,
        what="agentgen's RPC request",
    )
    rpc = frame.request
    # .NET decodes the payload as Any whatever data_content_type says.
    received = unpack_any_bytes(rpc.payload.data, pb2.EchoRequest)
    await dotnet.respond(rpc, echo_reply(pb2, received, AgentId(DOTNET_ECHO, "k4")))
    reply = await call

    assert received == request
    assert rpc.payload.data_content_type == PROTOBUF_CONTENT_TYPE
    assert rpc.payload.data_type == "interop.v1.EchoRequest"
    assert (rpc.target.type, rpc.target.key) == (DOTNET_ECHO, "k4")
    assert (rpc.source.type, rpc.source.key) == ("agentgen_caller", "c2")
    assert reply == echo_reply(pb2, request, AgentId(DOTNET_ECHO, "k4"))
