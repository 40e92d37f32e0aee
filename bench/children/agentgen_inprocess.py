"""Scenarios 1-2 on agentgen: ``InProcessRuntime`` with generated agents.

Usage: ``agentgen_inprocess.py publish|rpc --count N --warmup W`` (agentgen's
venv, the benchmark gencode on ``PYTHONPATH``). Protocol: ``childio``.
"""

from __future__ import annotations

from agentgen_agents import Echo, Sink
from benchproto.ping_pb2 import Ping
from childio import (
    BENCH_TOPIC,
    ECHO_TYPE,
    IN_PROCESS_PAYLOAD_BYTES,
    Control,
    Receiver,
    in_process_publish,
    make_blob,
    run_caller,
    run_in_process_child,
    serve_until_stop,
)

from agentgen.runtime import AgentId, InProcessRuntime, TopicId


async def publish_mode(control: Control, count: int, warmup: int) -> None:
    """Warm up, then publish ``count`` Pings to one subscribed Sink on ``go``."""
    blob = make_blob(IN_PROCESS_PAYLOAD_BYTES, random=False)
    topic = TopicId(BENCH_TOPIC)
    receiver = Receiver(warmup)
    async with InProcessRuntime() as runtime:
        await Sink.register(runtime, lambda: Sink(receiver))

        async def publish(seq: int) -> None:
            await runtime.publish_message(Ping(seq=seq, blob=blob), topic)

        await in_process_publish(control, publish, receiver, count)
        await serve_until_stop(control)


async def rpc_mode(control: Control, warmup: int) -> None:
    """Warm up, then make sequential (or concurrent) RPCs to one Echo."""
    blob = make_blob(IN_PROCESS_PAYLOAD_BYTES, random=False)
    recipient = AgentId(ECHO_TYPE)
    async with InProcessRuntime() as runtime:
        await Echo.register(runtime)

        async def call(seq: int) -> None:
            reply = await runtime.send_message(Ping(seq=seq, blob=blob), recipient)
            assert reply.seq == seq

        await run_caller(control, call, warmup)


if __name__ == "__main__":
    run_in_process_child(__doc__.splitlines()[0], publish_mode, rpc_mode)
