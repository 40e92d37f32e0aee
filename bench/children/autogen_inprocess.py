"""Scenarios 1-2 on AutoGen 0.7.5: ``SingleThreadedAgentRuntime`` with ``RoutedAgent``.

Usage: ``autogen_inprocess.py publish|rpc --count N --warmup W`` (the AutoGen
venv, its gencode on ``PYTHONPATH``). Protocol: ``childio``.
"""

from __future__ import annotations

import argparse

from autogen_agents import Echo, Sink
from autogen_core import AgentId, SingleThreadedAgentRuntime, TopicId
from benchproto.ping_pb2 import Ping
from childio import (
    BENCH_TOPIC,
    ECHO_TYPE,
    SINK_TYPE,
    Control,
    Receiver,
    emit,
    make_blob,
    run_caller,
    run_child,
    run_publisher,
    serve_until_stop,
)

PAYLOAD_BYTES = 100


async def publish_mode(control: Control, count: int, warmup: int) -> None:
    """Warm up, then publish ``count`` Pings to one subscribed Sink on ``go``."""
    blob = make_blob(PAYLOAD_BYTES, random=False)
    topic = TopicId(BENCH_TOPIC, "default")
    receiver = Receiver(warmup)
    runtime = SingleThreadedAgentRuntime()
    await Sink.register(runtime, SINK_TYPE, lambda: Sink(receiver))
    runtime.start()

    async def publish(seq: int) -> None:
        await runtime.publish_message(Ping(seq=seq, blob=blob), topic)

    for seq in range(warmup):
        await publish(seq)
    await receiver.done.wait()
    receiver.reset(count)
    emit("ready")
    await run_publisher(control, publish, count)
    await receiver.done.wait()
    emit("done", phase="receive", **receiver.report())
    await runtime.stop()
    await serve_until_stop(control)


async def rpc_mode(control: Control, warmup: int) -> None:
    """Warm up, then make sequential (or concurrent) RPCs to one Echo."""
    blob = make_blob(PAYLOAD_BYTES, random=False)
    recipient = AgentId(ECHO_TYPE, "default")
    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, ECHO_TYPE, Echo)
    runtime.start()

    async def call(seq: int) -> None:
        reply = await runtime.send_message(Ping(seq=seq, blob=blob), recipient)
        assert reply.seq == seq

    await run_caller(control, call, warmup)
    await runtime.stop()


def main() -> None:
    """Parse the command line and run one mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("publish", "rpc"))
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=0)
    args = parser.parse_args()

    async def run(control: Control) -> None:
        if args.mode == "publish":
            await publish_mode(control, args.count, args.warmup)
        else:
            await rpc_mode(control, args.warmup)

    run_child(run)


if __name__ == "__main__":
    main()
