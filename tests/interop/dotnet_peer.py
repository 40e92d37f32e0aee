"""A raw peer that speaks ``agents.AgentRpc`` exactly as the .NET worker does.

There is no .NET runtime on the test machines, so this peer reproduces what
``Microsoft.AutoGen.Core.Grpc.GrpcAgentRuntime`` puts on the wire (reference
section 7.1), with ``agentgen.protos`` and grpc directly:

* a ``client-id`` header (a GUID) on ``OpenChannel`` and every unary call;
  ``OpenChannel`` first, then ``RegisterAgent`` and ``AddSubscription``;
* published CloudEvents carry ``proto_data`` (an ``Any``), attributes
  ``datacontenttype``, ``dataschema`` (descriptor full name) and ``agmsgkind``
  only: no ``spec_version`` and no sender attributes without a sender;
* RPC payloads are ``Any`` bytes with ``data_content_type``
  ``application/x-protobuf`` and ``data_type`` the full name; no ``method``,
  no ``metadata``; replies are read as ``Any`` whatever their content type
  says (.NET ignores it).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message

from agentgen.protos import agent_worker_pb2, agent_worker_pb2_grpc, cloudevent_pb2

__all__ = ["PROTOBUF", "DotnetStylePeer", "unpack_any_bytes"]

PROTOBUF = "application/x-protobuf"
WAIT_SECONDS = 15.0
M = TypeVar("M", bound=Message)


def _attribute(value: str) -> cloudevent_pb2.CloudEvent.CloudEventAttributeValue:
    return cloudevent_pb2.CloudEvent.CloudEventAttributeValue(ce_string=value)


def _packed(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def unpack_any_bytes(data: bytes, cls: type[M]) -> M:
    """Decode ``Any`` bytes into ``cls`` the way .NET does (``Unpack<T>``)."""
    packed = any_pb2.Any.FromString(data)
    message = cls()
    if not packed.Unpack(message):
        raise AssertionError(
            f"Any holds {packed.type_url}, not {cls.DESCRIPTOR.full_name}"
        )
    return message


class DotnetStylePeer:
    """One .NET-style worker connection: send frames, await received ones."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.client_id = str(uuid.uuid4())
        self.received: list[agent_worker_pb2.Message] = []
        self._channel = channel
        self._stub: Any = agent_worker_pb2_grpc.AgentRpcStub(  # type: ignore[no-untyped-call]
            channel
        )
        self._metadata = (("client-id", self.client_id),)
        self._outbound: asyncio.Queue[agent_worker_pb2.Message | None] = asyncio.Queue()
        self._arrived = asyncio.Condition()
        self._stream: Any = None
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, address: str) -> DotnetStylePeer:
        """Open the channel and the ``OpenChannel`` stream to ``address``."""
        peer = cls(grpc.aio.insecure_channel(address))
        peer._stream = peer._stub.OpenChannel(
            peer._outbound_frames(), metadata=peer._metadata
        )
        peer._reader = asyncio.create_task(peer._read())
        # Like AutoGen's worker (#5514): the stream's headers go out before
        # RegisterAgent; the protocol has no acknowledgement to wait for.
        await peer._stream.wait_for_connection()
        return peer

    async def register_agent(self, agent_type: str) -> None:
        await self._stub.RegisterAgent(
            agent_worker_pb2.RegisterAgentTypeRequest(type=agent_type),
            metadata=self._metadata,
        )

    async def add_type_subscription(self, topic_type: str, agent_type: str) -> None:
        subscription = agent_worker_pb2.Subscription(
            id=str(uuid.uuid4()),
            typeSubscription=agent_worker_pb2.TypeSubscription(
                topic_type=topic_type, agent_type=agent_type
            ),
        )
        await self._stub.AddSubscription(
            agent_worker_pb2.AddSubscriptionRequest(subscription=subscription),
            metadata=self._metadata,
        )

    async def publish(
        self, message: Message, topic_type: str, topic_source: str, message_id: str
    ) -> None:
        """Publish as .NET does without a sender."""
        event = cloudevent_pb2.CloudEvent(
            id=message_id,
            source=topic_source,
            type=topic_type,
            attributes={
                "datacontenttype": _attribute(PROTOBUF),
                "dataschema": _attribute(message.DESCRIPTOR.full_name),
                "agmsgkind": _attribute("publish"),
            },
            proto_data=_packed(message),
        )
        await self._outbound.put(agent_worker_pb2.Message(cloudEvent=event))

    async def send_request(
        self,
        message: Message,
        target_type: str,
        target_key: str,
        source: tuple[str, str] | None = None,
    ) -> str:
        """Send an RpcRequest with an ``Any`` payload; returns its request id."""
        request = agent_worker_pb2.RpcRequest(
            request_id=str(uuid.uuid4()),
            target=agent_worker_pb2.AgentId(type=target_type, key=target_key),
            payload=self._payload(message),
        )
        if source is not None:
            request.source.CopyFrom(
                agent_worker_pb2.AgentId(type=source[0], key=source[1])
            )
        await self._outbound.put(agent_worker_pb2.Message(request=request))
        return request.request_id

    async def respond(
        self, request: agent_worker_pb2.RpcRequest, reply: Message
    ) -> None:
        """Answer ``request`` as .NET does: an ``Any`` payload, no error."""
        response = agent_worker_pb2.RpcResponse(
            request_id=request.request_id, payload=self._payload(reply)
        )
        await self._outbound.put(agent_worker_pb2.Message(response=response))

    async def wait_for(
        self,
        predicate: Callable[[agent_worker_pb2.Message], bool],
        *,
        what: str,
        timeout: float = WAIT_SECONDS,
    ) -> agent_worker_pb2.Message:
        """The first frame received (before or within ``timeout``) matching."""

        def match() -> agent_worker_pb2.Message | None:
            return next((frame for frame in self.received if predicate(frame)), None)

        try:
            async with asyncio.timeout(timeout), self._arrived:
                await self._arrived.wait_for(lambda: match() is not None)
        except TimeoutError:
            raise AssertionError(
                f".NET-style peer: no {what} within {timeout} s; "
                f"received {list(self.received)}"
            ) from None
        found = match()
        assert found is not None
        return found

    async def close(self) -> None:
        await self._outbound.put(None)
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self._channel.close(None)

    @staticmethod
    def _payload(message: Message) -> agent_worker_pb2.Payload:
        return agent_worker_pb2.Payload(
            data_type=message.DESCRIPTOR.full_name,
            data_content_type=PROTOBUF,
            data=_packed(message).SerializeToString(),
        )

    async def _outbound_frames(self) -> AsyncIterator[agent_worker_pb2.Message]:
        while (frame := await self._outbound.get()) is not None:
            yield frame

    async def _read(self) -> None:
        async for frame in self._stream:
            async with self._arrived:
                self.received.append(frame)
                self._arrived.notify_all()
