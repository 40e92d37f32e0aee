"""One AutoGen 0.7.5 ``GrpcWorkerAgentRuntime`` in one role, for scenarios 3-7.

Usage: ``autogen_worker.py sub|pub|echo|caller --address HOST:PORT ...`` (the
AutoGen venv, its gencode on ``PYTHONPATH``; options in
``childio.parse_worker_args``). As performance-baseline.md describes: protobuf
payloads (``payload_serialization_format=PROTOBUF``), ``RoutedAgent``
handlers, and a JSON serializer for Ping because AutoGen's RPCs are JSON.

* ``sub``: a Sink agent (``--agent-type``) counting ``--count`` Pings;
* ``pub``: publishes ``--count`` Pings on ``go``;
* ``echo``: an Echo agent answering RPCs;
* ``caller``: ``--warmup`` RPCs, then the phases the runner asks for.
"""

from __future__ import annotations

from autogen_agents import Echo, PingJsonSerializer, Sink
from autogen_core import (
    PROTOBUF_DATA_CONTENT_TYPE,
    AgentId,
    TopicId,
    try_get_known_serializers_for_type,
)
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntime
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


async def play(
    control: Control, args: WorkerArgs, runtime: GrpcWorkerAgentRuntime
) -> None:
    """Play ``args.role`` on a started runtime until the runner says ``stop``."""
    blob = make_blob(args.size, args.random)
    if args.role == "sub":
        receiver = Receiver(args.count)
        await Sink.register(runtime, args.agent_type, lambda: Sink(receiver))
        await run_receiver(control, receiver)
    elif args.role == "pub":
        topic = TopicId(BENCH_TOPIC, "default")

        async def publish(seq: int) -> None:
            await runtime.publish_message(Ping(seq=seq, blob=blob), topic)

        await run_publisher(control, publish, args.count)
        await serve_until_stop(control)
    elif args.role == "echo":
        await Echo.register(runtime, ECHO_TYPE, Echo)
        emit("ready")
        await serve_until_stop(control)
    else:
        recipient = AgentId(ECHO_TYPE, "default")

        async def call(seq: int) -> None:
            reply = await runtime.send_message(Ping(seq=seq, blob=blob), recipient)
            assert reply.seq == seq

        await run_caller(control, call, args.warmup)


async def work(control: Control) -> None:
    """Connect to the host, play the role, disconnect."""
    args = parse_worker_args(__doc__.splitlines()[0])
    runtime = GrpcWorkerAgentRuntime(
        args.address, payload_serialization_format=PROTOBUF_DATA_CONTENT_TYPE
    )
    await runtime.start()
    runtime.add_message_serializer(try_get_known_serializers_for_type(Ping))
    runtime.add_message_serializer(PingJsonSerializer())
    try:
        await play(control, args, runtime)
    finally:
        await runtime.stop()


if __name__ == "__main__":
    run_child(work)
