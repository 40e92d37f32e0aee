"""Scenarios 1-2 on AutoGen 0.7.5: ``SingleThreadedAgentRuntime`` with ``RoutedAgent``.

Usage: ``autogen_inprocess.py publish|rpc --count N --warmup W`` (the AutoGen
venv, its gencode on ``PYTHONPATH``). Protocol: ``childio``.
"""

from __future__ import annotations

from autogen_agents import Echo, Sink
from autogen_core import AgentId, SingleThreadedAgentRuntime, TopicId
from benchproto.ping_pb2 import Ping
from childio import (
    BENCH_TOPIC,
    ECHO_TYPE,
    IN_PROCESS_PAYLOAD_BYTES,
    SINK_TYPE,
    Control,
    Receiver,
    in_process_publish,
    make_blob,
    run_caller,
    run_in_process_child,
    serve_until_stop,
)


async def publish_mode(control: Control, count: int, warmup: int) -> None:
    """Warm up, then publish ``count`` Pings to one subscribed Sink on ``go``."""
    blob = make_blob(IN_PROCESS_PAYLOAD_BYTES, random=False)
    topic = TopicId(BENCH_TOPIC, "default")
    receiver = Receiver(warmup)
    runtime = SingleThreadedAgentRuntime()
    await Sink.register(runtime, SINK_TYPE, lambda: Sink(receiver))
    runtime.start()

    async def publish(seq: int) -> None:
        await runtime.publish_message(Ping(seq=seq, blob=blob), topic)

    await in_process_publish(control, publish, receiver, count)
    await runtime.stop()
    await serve_until_stop(control)


async def rpc_mode(control: Control, warmup: int) -> None:
    """Warm up, then make sequential (or concurrent) RPCs to one Echo."""
    blob = make_blob(IN_PROCESS_PAYLOAD_BYTES, random=False)
    recipient = AgentId(ECHO_TYPE, "default")
    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, ECHO_TYPE, Echo)
    runtime.start()

    async def call(seq: int) -> None:
        reply = await runtime.send_message(Ping(seq=seq, blob=blob), recipient)
        assert reply.seq == seq

    await run_caller(control, call, warmup)
    await runtime.stop()


if __name__ == "__main__":
    run_in_process_child(__doc__.splitlines()[0], publish_mode, rpc_mode)
