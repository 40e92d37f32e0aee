"""The transport floor's relay: a bare ``grpc.aio`` ``agents.AgentRpc`` server.

No agent logic: it parses each ``agents.Message`` frame only to route it and
forwards the received bytes. Events go to the clients that subscribed to the
topic type (exact ``TypeSubscription`` match only), requests to the owner of
the target agent type, responses back to the caller. Queues are unbounded and
nothing is checked: this is the cost of the transport, not a usable host.

Usage: ``relay_host.py`` (agentgen's venv). Prints ``ready`` with the
address; ``stop`` ends it. Protocol: ``childio``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
from childio import Control, emit, run_child, serve_until_stop

from agentgen.protos import agent_worker_pb2 as pb

SERVICE = "agents.AgentRpc"
CLIENT_ID_HEADER = "client-id"

FrameContext = grpc.aio.ServicerContext[bytes, bytes]


def client_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The caller's ``client-id`` header."""
    for key, value in context.invocation_metadata() or ():
        if key == CLIENT_ID_HEADER:
            return value if isinstance(value, str) else value.decode()
    raise ValueError("client-id metadata not found")


class Relay:
    """Routing tables and one outbound queue per connected client."""

    def __init__(self) -> None:
        self.outboxes: dict[str, asyncio.Queue[bytes]] = {}
        self.type_owner: dict[str, str] = {}
        self.topic_clients: dict[str, set[str]] = {}
        self.pending: dict[str, str] = {}

    async def open_channel(
        self, frames: AsyncIterator[bytes], context: FrameContext
    ) -> None:
        """One client's stream: route what it sends, write what it is sent."""
        client = client_id(context)
        outbox = self.outbox(client)
        reader = asyncio.create_task(self._route(client, frames))
        try:
            while True:
                await context.write(await outbox.get())
        finally:
            reader.cancel()
            del self.outboxes[client]

    def outbox(self, client: str) -> asyncio.Queue[bytes]:
        """The queue of frames to write to ``client`` (made on first use)."""
        outbox = self.outboxes.get(client)
        if outbox is None:
            outbox = self.outboxes[client] = asyncio.Queue()
        return outbox

    async def _route(self, client: str, frames: AsyncIterator[bytes]) -> None:
        async for frame in frames:
            message = pb.Message.FromString(frame)
            kind = message.WhichOneof("message")
            if kind == "cloudEvent":
                for target in self.topic_clients.get(message.cloudEvent.type, ()):
                    self.outbox(target).put_nowait(frame)
            elif kind == "request":
                self.pending[message.request.request_id] = client
                owner = self.type_owner[message.request.target.type]
                self.outbox(owner).put_nowait(frame)
            elif kind == "response":
                caller = self.pending.pop(message.response.request_id)
                self.outbox(caller).put_nowait(frame)

    async def register_agent(
        self,
        request: pb.RegisterAgentTypeRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.RegisterAgentTypeResponse:
        """Record the caller as the owner of an agent type."""
        self.type_owner[request.type] = client_id(context)
        return pb.RegisterAgentTypeResponse()

    async def add_subscription(
        self,
        request: pb.AddSubscriptionRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.AddSubscriptionResponse:
        """Route a topic type to the caller (type subscriptions only)."""
        topic = request.subscription.typeSubscription.topic_type
        if topic:
            self.topic_clients.setdefault(topic, set()).add(client_id(context))
        return pb.AddSubscriptionResponse()

    def handler(self) -> grpc.GenericRpcHandler[Any, Any]:
        """The generic handler serving this relay."""
        unary = grpc.unary_unary_rpc_method_handler
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "OpenChannel": grpc.stream_stream_rpc_method_handler(self.open_channel),
                "RegisterAgent": unary(
                    self.register_agent,
                    request_deserializer=pb.RegisterAgentTypeRequest.FromString,
                    response_serializer=pb.RegisterAgentTypeResponse.SerializeToString,
                ),
                "AddSubscription": unary(
                    self.add_subscription,
                    request_deserializer=pb.AddSubscriptionRequest.FromString,
                    response_serializer=pb.AddSubscriptionResponse.SerializeToString,
                ),
            },
        )


async def serve(control: Control) -> None:
    """Listen on a free loopback port, report it, relay until ``stop``."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((Relay().handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    emit("ready", address=f"127.0.0.1:{port}", t=time.monotonic())
    await serve_until_stop(control)
    await server.stop(grace=0)


if __name__ == "__main__":
    run_child(serve)
