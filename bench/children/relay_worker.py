"""The transport floor's clients: raw ``agents.Message`` frames over ``grpc.aio``.

No runtime and no agents: the same frames an AutoGen or agentgen worker sends
(a CloudEvent with the Ping packed in ``proto_data``; an ``RpcRequest`` with a
protobuf payload), built and written directly, and received messages counted
without decoding the Ping.

Usage: ``relay_worker.py sub|pub|echo|caller --address HOST:PORT ...``
(agentgen's venv, the benchmark gencode on ``PYTHONPATH``; options in
``childio.parse_worker_args``).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid

import grpc
from benchproto.ping_pb2 import Ping
from childio import (
    BENCH_TOPIC,
    ECHO_TYPE,
    Control,
    Receiver,
    WorkerArgs,
    emit,
    make_blob,
    parse_worker_args,
    run_caller,
    run_child,
    run_publisher,
    run_receiver,
    serve_until_stop,
)
from google.protobuf import any_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2 as ce

PROTOBUF = "application/x-protobuf"
SERVICE = "agents.AgentRpc"
Stream = grpc.aio.StreamStreamCall[pb.Message, pb.Message]


def event_frame(ping: Ping, message_id: str) -> pb.Message:
    """The CloudEvent an AutoGen worker publishes for ``ping`` (protobuf format)."""
    attribute = ce.CloudEvent.CloudEventAttributeValue
    event = ce.CloudEvent(
        id=message_id,
        source="default",
        type=BENCH_TOPIC,
        spec_version="1.0",
        attributes={
            "datacontenttype": attribute(ce_string=PROTOBUF),
            "dataschema": attribute(ce_string=Ping.DESCRIPTOR.full_name),
            "agagentsendertype": attribute(ce_string="unknown"),
            "agagentsenderkey": attribute(ce_string="unknown"),
            "agmsgkind": attribute(ce_string="publish"),
        },
    )
    event.proto_data.Pack(ping)
    return pb.Message(cloudEvent=event)


def request_frame(ping: Ping, request_id: str) -> pb.Message:
    """An ``RpcRequest`` of ``ping`` to the Echo agent (protobuf payload)."""
    packed = any_pb2.Any()
    packed.Pack(ping)
    return pb.Message(
        request=pb.RpcRequest(
            request_id=request_id,
            target=pb.AgentId(type=ECHO_TYPE, key="default"),
            payload=pb.Payload(
                data_type=Ping.DESCRIPTOR.full_name,
                data_content_type=PROTOBUF,
                data=packed.SerializeToString(),
            ),
        )
    )


class Connection:
    """One client: the ``OpenChannel`` stream plus the unary calls' header."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.aio.insecure_channel(address)
        self.metadata = (("client-id", str(uuid.uuid4())),)
        open_channel = self.channel.stream_stream(
            f"/{SERVICE}/OpenChannel",
            request_serializer=pb.Message.SerializeToString,
            response_deserializer=pb.Message.FromString,
        )
        self.stream: Stream = open_channel(None, metadata=self.metadata)

    async def register(self, agent_type: str, topic: str | None = None) -> None:
        """Own ``agent_type``; subscribe it to ``topic`` if given."""
        register_agent = self.channel.unary_unary(
            f"/{SERVICE}/RegisterAgent",
            request_serializer=pb.RegisterAgentTypeRequest.SerializeToString,
            response_deserializer=pb.RegisterAgentTypeResponse.FromString,
        )
        await register_agent(
            pb.RegisterAgentTypeRequest(type=agent_type), metadata=self.metadata
        )
        if topic is None:
            return
        add_subscription = self.channel.unary_unary(
            f"/{SERVICE}/AddSubscription",
            request_serializer=pb.AddSubscriptionRequest.SerializeToString,
            response_deserializer=pb.AddSubscriptionResponse.FromString,
        )
        subscription = pb.Subscription(
            id=str(uuid.uuid4()),
            typeSubscription=pb.TypeSubscription(
                topic_type=topic, agent_type=agent_type
            ),
        )
        await add_subscription(
            pb.AddSubscriptionRequest(subscription=subscription), metadata=self.metadata
        )

    async def close(self) -> None:
        """Cancel the stream and close the channel."""
        self.stream.cancel()
        await self.channel.close(None)


async def count_events(connection: Connection, receiver: Receiver) -> None:
    """Count every frame that arrives."""
    async for _ in connection.stream:
        receiver.on_message()


async def echo_requests(connection: Connection) -> None:
    """Answer every request with its own payload."""
    async for message in connection.stream:
        request = message.request
        await connection.stream.write(
            pb.Message(
                response=pb.RpcResponse(
                    request_id=request.request_id, payload=request.payload
                )
            )
        )


async def settle_responses(
    connection: Connection, pending: dict[str, asyncio.Future[pb.RpcResponse]]
) -> None:
    """Complete the caller's future of every response."""
    async for message in connection.stream:
        pending.pop(message.response.request_id).set_result(message.response)


async def play(control: Control, args: WorkerArgs, connection: Connection) -> None:
    """Play ``args.role`` until the runner says ``stop``."""
    blob = make_blob(args.size, args.random)
    background: asyncio.Task[None] | None = None
    if args.role == "sub":
        receiver = Receiver(args.count)
        await connection.register(args.agent_type, BENCH_TOPIC)
        background = asyncio.create_task(count_events(connection, receiver))
        await run_receiver(control, receiver)
    elif args.role == "pub":
        ids = f"{uuid.uuid4()}-"

        async def publish(seq: int) -> None:
            await connection.stream.write(
                event_frame(Ping(seq=seq, blob=blob), f"{ids}{seq}")
            )

        await run_publisher(control, publish, args.count)
        await serve_until_stop(control)
    elif args.role == "echo":
        await connection.register(ECHO_TYPE)
        background = asyncio.create_task(echo_requests(connection))
        emit("ready")
        await serve_until_stop(control)
    else:
        pending: dict[str, asyncio.Future[pb.RpcResponse]] = {}
        counter = itertools.count()
        loop = asyncio.get_running_loop()
        writing = asyncio.Lock()  # grpc.aio allows one write in flight per stream
        background = asyncio.create_task(settle_responses(connection, pending))

        async def call(seq: int) -> None:
            request_id = str(next(counter))
            reply = pending[request_id] = loop.create_future()
            frame = request_frame(Ping(seq=seq, blob=blob), request_id)
            async with writing:
                await connection.stream.write(frame)
            await reply

        await run_caller(control, call, args.warmup)
    if background is not None:
        background.cancel()


async def work(control: Control) -> None:
    """Connect, play the role, disconnect."""
    args = parse_worker_args(__doc__.splitlines()[0])
    connection = Connection(args.address)
    try:
        await play(control, args, connection)
    finally:
        await connection.close()


if __name__ == "__main__":
    run_child(work)
