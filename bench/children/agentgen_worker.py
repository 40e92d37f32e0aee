"""One agentgen ``GrpcWorkerRuntime`` in one role, for scenarios 3-7.

Usage: ``agentgen_worker.py sub|pub|echo|caller --address HOST:PORT ...``
(agentgen's venv, the benchmark gencode on ``PYTHONPATH``; options in
``childio.parse_worker_args``). Agents are the plugin's generated bases.
Both ends are agentgen, so RPCs use protobuf payloads
(``rpc_content_type=PROTOBUF_CONTENT_TYPE``; the default, JSON, is for
AutoGen Python peers).

* ``sub``: a Sink agent (``--agent-type``) counting ``--count`` Pings;
* ``pub``: publishes ``--count`` Pings on ``go``;
* ``echo``: an Echo agent answering RPCs;
* ``caller``: ``--warmup`` RPCs, then the phases the runner asks for.
"""

from __future__ import annotations

from agentgen_agents import Echo, Sink
from benchproto.agents_agents import EchoClient
from benchproto.ping_pb2 import Ping
from childio import (
    BENCH_TOPIC,
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

from agentgen.runtime import PROTOBUF_CONTENT_TYPE, TopicId
from agentgen.runtime.grpc import GrpcWorkerRuntime


async def play(control: Control, args: WorkerArgs, runtime: GrpcWorkerRuntime) -> None:
    """Play ``args.role`` on a started runtime until the runner says ``stop``."""
    blob = make_blob(args.size, args.random)
    if args.role == "sub":
        receiver = Receiver(args.count)
        await Sink.register(runtime, lambda: Sink(receiver), agent_type=args.agent_type)
        await run_receiver(control, receiver)
    elif args.role == "pub":
        topic = TopicId(BENCH_TOPIC)

        async def publish(seq: int) -> None:
            await runtime.publish_message(Ping(seq=seq, blob=blob), topic)

        await run_publisher(control, publish, args.count)
        await serve_until_stop(control)
    elif args.role == "echo":
        await Echo.register(runtime)
        emit("ready")
        await serve_until_stop(control)
    else:
        echo = EchoClient(runtime)

        async def call(seq: int) -> None:
            reply = await echo.echo(Ping(seq=seq, blob=blob))
            assert reply.seq == seq

        await run_caller(control, call, args.warmup)


async def work(control: Control) -> None:
    """Connect to the host, play the role, disconnect."""
    args = parse_worker_args(__doc__.splitlines()[0])
    async with GrpcWorkerRuntime(
        args.address, rpc_content_type=PROTOBUF_CONTENT_TYPE
    ) as runtime:
        await play(control, args, runtime)


if __name__ == "__main__":
    run_child(work)
