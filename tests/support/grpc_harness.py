"""Shared helpers of the gRPC tests: bounded waits and a raw wire-protocol peer.

The raw peer speaks ``agents.AgentRpc`` with nothing but grpc.aio and the
compiled protos, as a foreign worker (AutoGen Python, .NET) would.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
from google.protobuf.message import Message

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc import GrpcWorkerRuntime
from agentgen.runtime.grpc.protocol import service

DEFAULT_WAIT = 10.0

T = TypeVar("T")
R = TypeVar("R", bound=Message)


async def wait_until(
    condition: Callable[[], bool], what: str, timeout: float = DEFAULT_WAIT
) -> None:
    """Wait until ``condition()`` holds, polling the loop; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)


async def bounded(awaitable: Awaitable[T], timeout: float = DEFAULT_WAIT) -> T:
    """Await with a deadline (a hang becomes a test failure, not a stuck run)."""
    return await asyncio.wait_for(awaitable, timeout)


async def settle(turns: int = 20) -> None:
    """Let the event loop run ``turns`` times: to check what did *not* happen."""
    for _ in range(turns):
        await asyncio.sleep(0)


class RawPeer:
    """A worker written by hand against the wire protocol (a test peer).

    ``received`` collects every frame the host sends, raw and parsed.
    """

    def __init__(
        self,
        address: str,
        client_id: str | None = None,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        max_receive: int | None = None,
    ) -> None:
        self.address = address
        self._options = (
            []
            if max_receive is None
            else [("grpc.max_receive_message_length", max_receive)]
        )
        self.client_id = client_id or f"raw-{uuid.uuid4()}"
        self._credentials = credentials
        self._channel: grpc.aio.Channel | None = None
        self._stream: grpc.aio.StreamStreamCall[bytes, bytes] | None = None
        self._reader: asyncio.Task[None] | None = None
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self.stream_ended = asyncio.Event()

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return ((service.CLIENT_ID_HEADER, self.client_id),)

    @property
    def channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = (
                grpc.aio.insecure_channel(self.address, self._options)
                if self._credentials is None
                else grpc.aio.secure_channel(
                    self.address, self._credentials, self._options
                )
            )
        return self._channel

    async def open(self) -> None:
        """Open ``OpenChannel`` and wait until the host has attached it."""
        open_channel = self.channel.stream_stream(
            service.method_path(service.OPEN_CHANNEL), None, None
        )
        self._stream = open_channel(None, metadata=self.metadata)
        await bounded(self._stream.initial_metadata())
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._stream is not None
        try:
            while True:
                frame = await self._stream.read()
                if not isinstance(frame, bytes):  # grpc.aio.EOF
                    break
                await self.frames.put(frame)
        except grpc.aio.AioRpcError:
            pass
        finally:
            self.stream_ended.set()

    async def stream_status(self) -> tuple[grpc.StatusCode, str]:
        """The status code and details the ended stream closed with."""
        assert self._stream is not None, "open() first"
        return await self._stream.code(), await self._stream.details() or ""

    async def send(self, message: pb.Message) -> None:
        await self.send_raw(message.SerializeToString())

    async def send_raw(self, frame: bytes) -> None:
        assert self._stream is not None, "open() first"
        await self._stream.write(frame)

    async def receive_raw(self, timeout: float = DEFAULT_WAIT) -> bytes:
        return await asyncio.wait_for(self.frames.get(), timeout)

    async def receive(self, timeout: float = DEFAULT_WAIT) -> pb.Message:
        return pb.Message.FromString(await self.receive_raw(timeout))

    async def answer_next_request(self) -> pb.RpcRequest:
        """Receive a forwarded request, reply to it empty; return the request."""
        forwarded = (await self.receive()).request
        await self.send(response_message(forwarded.request_id))
        return forwarded

    async def unary(self, method: str, request: Message, response_type: type[R]) -> R:
        call = self.channel.unary_unary(
            service.method_path(method),
            request_serializer=type(request).SerializeToString,
            response_deserializer=response_type.FromString,
        )
        response = await call(request, metadata=self.metadata, timeout=DEFAULT_WAIT)
        assert isinstance(response, response_type)
        return response

    async def register(self, agent_type: str) -> None:
        await self.unary(
            service.REGISTER_AGENT,
            pb.RegisterAgentTypeRequest(type=agent_type),
            pb.RegisterAgentTypeResponse,
        )

    async def subscribe(
        self, topic_type: str, agent_type: str, *, prefix: bool = False, id: str = ""
    ) -> str:
        subscription = wire_subscription(topic_type, agent_type, prefix=prefix, id=id)
        await self.unary(
            service.ADD_SUBSCRIPTION,
            pb.AddSubscriptionRequest(subscription=subscription),
            pb.AddSubscriptionResponse,
        )
        return subscription.id

    async def close(self) -> None:
        if self._stream is not None:
            self._stream.cancel()
        if self._reader is not None:
            # A locally cancelled call ends its reader with CancelledError.
            await bounded(asyncio.gather(self._reader, return_exceptions=True))
        if self._channel is not None:
            await self._channel.close(None)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


def event_message(
    topic_type: str, source: str = "default", *, event_id: str | None = None
) -> pb.Message:
    """A CloudEvent frame carrying a ``StringValue`` as AutoGen .NET sends it."""
    from google.protobuf import wrappers_pb2

    message = pb.Message()
    event = message.cloudEvent
    event.id = event_id or str(uuid.uuid4())
    event.type = topic_type
    event.source = source
    event.proto_data.Pack(wrappers_pb2.StringValue(value=f"to {topic_type}"))
    event.attributes["datacontenttype"].ce_string = "application/x-protobuf"
    event.attributes["dataschema"].ce_string = "google.protobuf.StringValue"
    event.attributes["agmsgkind"].ce_string = "publish"
    return message


def request_message(request_id: str, target_type: str, key: str = "k") -> pb.Message:
    """An RpcRequest frame with a JSON payload, as AutoGen Python sends it."""
    message = pb.Message()
    request = message.request
    request.request_id = request_id
    request.target.type = target_type
    request.target.key = key
    request.payload.data_type = "google.protobuf.StringValue"
    request.payload.data_content_type = "application/json"
    request.payload.data = b'"ping"'
    return message


def response_message(request_id: str, data: bytes | None = None) -> pb.Message:
    """An RpcResponse frame: empty, or a JSON ``StringValue`` payload ``data``."""
    message = pb.Message()
    response = message.response
    response.request_id = request_id
    if data is not None:
        response.payload.data_type = "google.protobuf.StringValue"
        response.payload.data_content_type = "application/json"
        response.payload.data = data
    return message


def wire_subscription(
    topic_type: str, agent_type: str, *, prefix: bool = False, id: str = ""
) -> pb.Subscription:
    """An ``agents.Subscription`` by topic type (or prefix); a fresh id if none."""
    subscription = pb.Subscription(id=id or str(uuid.uuid4()))
    if prefix:
        subscription.typePrefixSubscription.topic_type_prefix = topic_type
        subscription.typePrefixSubscription.agent_type = agent_type
    else:
        subscription.typeSubscription.topic_type = topic_type
        subscription.typeSubscription.agent_type = agent_type
    return subscription


@contextlib.asynccontextmanager
async def running_worker(
    address: str, **options: Any
) -> AsyncIterator[GrpcWorkerRuntime]:
    """A started GrpcWorkerRuntime on ``address``, stopped afterwards."""
    options.setdefault("rpc_timeout", DEFAULT_WAIT)
    options.setdefault("connect_timeout", DEFAULT_WAIT)
    worker = GrpcWorkerRuntime(address, **options)
    await bounded(worker.start())
    try:
        yield worker
    finally:
        await bounded(worker.stop())
