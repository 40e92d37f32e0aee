"""Scenarios 1-2 on agentgen: ``InProcessRuntime`` with generated agents.

Usage: ``agentgen_inprocess.py publish|rpc --count N --warmup W`` (agentgen's
venv, the benchmark gencode on ``PYTHONPATH``). Protocol: ``childio``.
"""

from __future__ import annotations

import argparse

from benchproto.agents_agents import EchoBase, SinkBase
from benchproto.ping_pb2 import Ping
from childio import (
    BENCH_TOPIC,
    ECHO_TYPE,
    Control,
    Receiver,
    emit,
    make_blob,
    run_caller,
    run_child,
    run_publisher,
    serve_until_stop,
)

from agentgen.runtime import AgentId, InProcessRuntime, MessageContext, TopicId

PAYLOAD_BYTES = 100


class Sink(SinkBase):
    """Counts every Ping."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    async def on_ping(self, message: Ping, ctx: MessageContext) -> None:
        self.receiver.on_message()


class Echo(EchoBase):
    """Answers each Ping with itself."""

    async def echo(self, message: Ping, ctx: MessageContext) -> Ping:
        return message


async def publish_mode(control: Control, count: int, warmup: int) -> None:
    """Warm up, then publish ``count`` Pings to one subscribed Sink on ``go``."""
    blob = make_blob(PAYLOAD_BYTES, random=False)
    topic = TopicId(BENCH_TOPIC)
    receiver = Receiver(warmup)
    async with InProcessRuntime() as runtime:
        await Sink.register(runtime, lambda: Sink(receiver))

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
        await serve_until_stop(control)


async def rpc_mode(control: Control, warmup: int) -> None:
    """Warm up, then make sequential (or concurrent) RPCs to one Echo."""
    blob = make_blob(PAYLOAD_BYTES, random=False)
    recipient = AgentId(ECHO_TYPE)
    async with InProcessRuntime() as runtime:
        await Echo.register(runtime)

        async def call(seq: int) -> None:
            reply = await runtime.send_message(Ping(seq=seq, blob=blob), recipient)
            assert reply.seq == seq

        await run_caller(control, call, warmup)


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
