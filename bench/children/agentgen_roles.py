"""The worker roles of agentgen's children, on any agentgen runtime.

Shared by ``agentgen_worker.py`` (gRPC, through the host) and
``nats_worker.py`` (NATS, no host); imports no transport. Roles and options:
``childio.parse_worker_args``.

* ``sub``: a Sink agent (``--agent-type``) counting ``--count`` Pings; with
  ``--burn-us`` a Burner instead, which shares its type with other workers
  and answers the runner's ``count`` (scale-out);
* ``pub``: publishes ``--count`` Pings on ``go`` (to ``--keys`` topic
  sources in turn, when given);
* ``echo``: an Echo agent answering RPCs;
* ``caller``: ``--warmup`` RPCs, then the phases the runner asks for.
"""

from __future__ import annotations

from agentgen_agents import Burner, Echo, Sink
from benchproto.agents_agents import EchoClient
from benchproto.ping_pb2 import Ping
from childio import (
    BENCH_TOPIC,
    Control,
    Receiver,
    WorkerArgs,
    emit,
    make_blob,
    run_caller,
    run_counting_receiver,
    run_publisher,
    run_receiver,
    serve_until_stop,
)

from agentgen.runtime import AgentRuntime, TopicId

__all__ = ["play"]


async def play(control: Control, args: WorkerArgs, runtime: AgentRuntime) -> None:
    """Play ``args.role`` on a started runtime until the runner says ``stop``."""
    blob = make_blob(args.size, args.random)
    if args.role == "sub" and args.burn_us:
        receiver = Receiver(0)
        seconds = args.burn_us / 1e6
        await Burner.register(
            runtime, lambda: Burner(receiver, seconds), agent_type=args.agent_type
        )
        await run_counting_receiver(control, receiver)
    elif args.role == "sub":
        receiver = Receiver(args.count)
        await Sink.register(runtime, lambda: Sink(receiver), agent_type=args.agent_type)
        await run_receiver(control, receiver)
    elif args.role == "pub":
        topics = [TopicId(BENCH_TOPIC, f"k{key}") for key in range(args.keys)] or [
            TopicId(BENCH_TOPIC)
        ]

        async def publish(seq: int) -> None:
            topic = topics[seq % len(topics)]
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
