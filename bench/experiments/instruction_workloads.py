"""The workloads ``instructions.py`` counts, one per process (a script, not a module).

Usage: ``instruction_workloads.py WORKLOAD COUNT`` with the benchmark
gencode and ``bench/children`` on ``PYTHONPATH``, and in front of them the
agentgen tree to measure. Only public names of ``agentgen.runtime`` are used,
so that older commits run it too. Prints ``delivered N`` at the end.

* ``publish``: ``COUNT`` in-process publishes to one Sink;
* ``rpc``: ``COUNT`` sequential in-process RPCs to one Echo;
* ``grpc``: a host, a publishing worker and a subscribing worker (one Sink),
  all in this process, ``COUNT`` events through the host;
* ``grpc-fanout``: the same with four subscribing workers (Sinks of four
  agent types): ``COUNT`` events, each delivered four times;
* ``grpc-rpc``: a host, a calling worker and a worker with an Echo:
  ``COUNT`` sequential RPCs through the host.

Each first sends one message and waits for it, so that connection, agent
creation and first-use costs fall in the ``COUNT = 0`` run too (the
experiment subtracts it).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from agentgen_agents import Echo, Sink  # type: ignore[import-not-found]
from benchproto.ping_pb2 import Ping  # type: ignore[import-not-found]

from agentgen.runtime import PROTOBUF_CONTENT_TYPE, AgentId, InProcessRuntime, TopicId

if TYPE_CHECKING:
    from agentgen.runtime import AgentRuntime
    from agentgen.runtime.grpc import GrpcWorkerRuntime

TOPIC = TopicId("bench")
PAYLOAD = b"x" * 64
WAIT_LIMIT = 300.0


class Counter:
    """What the Sink calls per message; waits for a total set beforehand."""

    def __init__(self) -> None:
        self.count = 0
        self.target = 0
        self.done = asyncio.Event()

    def on_message(self) -> None:
        self.count += 1
        if self.count == self.target:
            self.done.set()

    def expect(self, target: int) -> None:
        """Count towards ``target`` (before sending, so that no message
        after it calls ``done.set()`` on the way)."""
        self.target = target
        self.done.clear()

    async def reached(self) -> None:
        """Wait until the count is at the target."""
        if self.count < self.target:
            await asyncio.wait_for(self.done.wait(), WAIT_LIMIT)


async def in_process_publish(count: int) -> int:
    counter = Counter()
    async with InProcessRuntime() as runtime:
        await Sink.register(runtime, lambda: Sink(counter))
        message = Ping(seq=1, blob=PAYLOAD)
        counter.expect(1)
        await runtime.publish_message(message, TOPIC)
        await counter.reached()
        counter.expect(count + 1)
        for _ in range(count):
            await runtime.publish_message(message, TOPIC)
        await counter.reached()
    return counter.count - 1


async def call_echo(caller: AgentRuntime, count: int) -> int:
    """``count`` sequential RPCs to the Echo (after one more, not counted)."""
    message = Ping(seq=1, blob=PAYLOAD)
    echo = AgentId("Echo")
    for _ in range(count + 1):
        reply = await caller.send_message(message, echo)
        assert reply.seq == 1
    return count


async def in_process_rpc(count: int) -> int:
    async with InProcessRuntime() as runtime:
        await Echo.register(runtime)
        return await call_echo(runtime, count)


@contextlib.asynccontextmanager
async def host_and_workers(
    count: int,
) -> AsyncIterator[list[GrpcWorkerRuntime]]:
    """A host on 127.0.0.1 and ``count`` workers on it."""
    # Imported here: the in-process workloads run without grpc in memory
    # (a larger heap makes every full garbage collection dearer).
    from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime

    async with GrpcHost("127.0.0.1:0") as host, contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                GrpcWorkerRuntime(host.address, rpc_content_type=PROTOBUF_CONTENT_TYPE)
            )
            for _ in range(count)
        ]


async def publish_through_host(count: int, subscribers: int) -> int:
    """``count`` events from one worker to Sinks on ``subscribers`` others."""
    counter = Counter()
    async with host_and_workers(subscribers + 1) as workers:
        *receivers, publisher = workers
        for number, receiver in enumerate(receivers):
            await Sink.register(
                receiver, lambda: Sink(counter), agent_type=f"Sink{number}"
            )
        message = Ping(seq=1, blob=PAYLOAD)
        counter.expect(subscribers)
        await publisher.publish_message(message, TOPIC)
        await counter.reached()
        counter.expect(subscribers * (count + 1))
        for _ in range(count):
            await publisher.publish_message(message, TOPIC)
        await counter.reached()
    return counter.count // subscribers - 1


async def grpc_events(count: int) -> int:
    return await publish_through_host(count, 1)


async def grpc_fanout(count: int) -> int:
    return await publish_through_host(count, 4)


async def grpc_rpc(count: int) -> int:
    async with host_and_workers(2) as (callee, caller):
        await Echo.register(callee)
        return await call_echo(caller, count)


WORKLOADS = {
    "publish": in_process_publish,
    "rpc": in_process_rpc,
    "grpc": grpc_events,
    "grpc-fanout": grpc_fanout,
    "grpc-rpc": grpc_rpc,
}


def main() -> None:
    mode, count = sys.argv[1], int(sys.argv[2])
    delivered = asyncio.run(WORKLOADS[mode](count))
    print(f"delivered {delivered}")


if __name__ == "__main__":
    main()
