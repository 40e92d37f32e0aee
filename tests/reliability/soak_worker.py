"""One soak worker process: subscribes, publishes its part of the plan, tallies.

Usage (from the repository root): ``python -m tests.reliability.soak_worker
HOST:PORT WORKER WORKERS MESSAGES``.
Protocol (stdout / stdin): prints ``ready``; on ``go`` publishes its plan and
prints ``published SECONDS``; prints ``complete`` once it has received as
many messages as the plan sends it (or ``incomplete N`` after the deadline);
on ``report`` prints ``report {json}`` with every message received and its
counters, then stops.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any, ClassVar

from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    Agent,
    DefaultSubscription,
    Handler,
    MessageContext,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
)
from agentgen.runtime.grpc import GrpcWorkerRuntime
from tests.reliability.soak_plan import (
    FAN_PREFIX,
    SEQ_SPAN,
    SoakPlan,
    agent_type,
    has_default_subscription,
    ring_topic,
)

RECEIVE_DEADLINE = 600.0


class Tally:
    """Every value received, per agent key and publisher, in arrival order."""

    def __init__(self, expected: int) -> None:
        self.received: dict[str, dict[str, list[int]]] = {}
        self.count = 0
        self.expected = expected
        self.complete = asyncio.Event()

    def add(self, key: str, value: int) -> None:
        publisher, seq = divmod(value, SEQ_SPAN)
        self.received.setdefault(key, {}).setdefault(str(publisher), []).append(seq)
        self.count += 1
        if self.count >= self.expected:
            self.complete.set()


class SoakAgent(Agent):
    """Records each Int64Value it gets."""

    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_tick", wrappers_pb2.Int64Value, None),
    )

    def __init__(self, tally: Tally) -> None:
        self.tally = tally

    async def on_tick(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        self.tally.add(self.id.key, message.value)


async def subscribe(worker: GrpcWorkerRuntime, index: int, tally: Tally) -> None:
    """Register ``soak-INDEX`` with every kind of subscription."""
    own_type = agent_type(index)
    await worker.register_factory(own_type, lambda: SoakAgent(tally))
    await worker.add_subscription(TypeSubscription(ring_topic(index), own_type))
    await worker.add_subscription(TypePrefixSubscription(FAN_PREFIX, own_type))
    await worker.add_subscription(TypePrefixSubscription(f"{own_type}:", own_type))
    if has_default_subscription(index):
        await worker.add_subscription(DefaultSubscription(agent_type=own_type))


async def main(address: str, index: int, workers: int, messages: int) -> None:
    plan = SoakPlan(workers, messages)
    expected = sum(
        len(seqs)
        for per_key in plan.expected(index).values()
        for seqs in per_key.values()
    )
    tally = Tally(expected)
    commands = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(commands), sys.stdin
    )
    worker = GrpcWorkerRuntime(address, connect_timeout=60, rpc_timeout=60)
    await worker.start()
    try:
        await subscribe(worker, index, tally)
        print("ready", flush=True)
        assert (await commands.readline()).strip() == b"go"
        started = time.monotonic()
        for publish in plan.publishes(index):
            await worker.publish_message(
                wrappers_pb2.Int64Value(value=publish.value),
                TopicId(publish.topic_type, publish.key),
            )
        print(f"published {time.monotonic() - started:.3f}", flush=True)
        try:
            await asyncio.wait_for(tally.complete.wait(), RECEIVE_DEADLINE)
            print("complete", flush=True)
        except TimeoutError:
            print(f"incomplete {tally.count}", flush=True)
        assert (await commands.readline()).strip() == b"report"
        report: dict[str, Any] = {
            "worker": index,
            "received": tally.received,
            "counters": worker.counters.snapshot(),
        }
        print(f"report {json.dumps(report)}", flush=True)
    finally:
        await worker.stop()


if __name__ == "__main__":
    address, index, workers, messages = sys.argv[1:5]
    asyncio.run(main(address, int(index), int(workers), int(messages)))
