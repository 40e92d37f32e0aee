"""A raw peer sending exactly what the .NET worker sends (reference section 7.1).

First the peer is checked against a real AutoGen worker (which the reference
verified to accept .NET-style events and protobuf RPC payloads), then it
meets an agentgen worker: its events and RPCs must be understood and its RPCs
answered in kind (a protobuf ``Any`` payload), and agentgen's publishes must
be readable the way .NET reads them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from autogen_peers import AutogenWorker
from contract import EVENTS_TOPIC
from dotnet_peer import DotnetStylePeer
from gencode import AgentgenGencode
from peer_process import PeerLauncher

from agentgen.runtime.grpc import GrpcHost

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def dotnet(agentgen_host: GrpcHost) -> AsyncIterator[DotnetStylePeer]:
    peer = await DotnetStylePeer.connect(agentgen_host.address)
    try:
        yield peer
    finally:
        await peer.close()


async def test_autogen_worker_accepts_the_dotnet_style_peer(
    agentgen_host: GrpcHost,
    dotnet: DotnetStylePeer,
    peers: PeerLauncher,
    agentgen_gencode: AgentgenGencode,
) -> None:
    """The emulation is faithful: AutoGen reads it as it reads .NET."""
    pb2 = agentgen_gencode.pb2
    autogen = await AutogenWorker.start(peers, agentgen_host.address, "autogen")

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
    response = await dotnet.wait_for(
        lambda frame: frame.WhichOneof("message") == "response"
        and frame.response.request_id == request_id,
        what="RPC response from AutoGen",
    )
    assert response.response.error == ""
    handled = await autogen.received("autogen_echo/k1")
    assert handled["message"] == {"text": "rpc from dotnet"}
    assert handled["sender"] is None
    # AutoGen decodes the Any payload but always answers in JSON (its .NET gap).
    assert autogen.decoded_content_types("interop.v1.EchoRequest") == [
        "application/x-protobuf"
    ]
    assert response.response.payload.data_content_type == "application/json"
