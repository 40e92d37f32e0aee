"""A slow agent holds up neither its neighbours nor other workers, a flood of
messages for it stops at its publisher instead of filling memory, and replies
reach an agent even while its worker has stopped reading."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar

import pytest
from google.protobuf import wrappers_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import (
    Agent,
    AgentId,
    Handler,
    MessageContext,
    TopicId,
    TypeSubscription,
)
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime
from agentgen.runtime.grpc.host.counters import HostCounters
from agentgen.runtime.grpc.host.router import HostRouter

from .echo_worker import Echo
from .tallies import Counter, Tally

pytestmark = pytest.mark.timeout(120)

MAILBOX = 8
BACKLOG = 64
HOST_QUEUE = 16
OUTBOX = 16
FLOOD_LIMIT = 200_000
WAIT = 30.0
REPLY_WITHIN = 5.0
"""RPC timeout of the asking agent: a reply stuck behind its backlog fails it."""


@contextlib.asynccontextmanager
async def running(address: str, **options: Any) -> AsyncIterator[GrpcWorkerRuntime]:
    worker = GrpcWorkerRuntime(address, connect_timeout=WAIT, **options)
    await asyncio.wait_for(worker.start(), WAIT)
    try:
        yield worker
    finally:
        await asyncio.wait_for(worker.stop(), WAIT)


async def serve(
    worker: GrpcWorkerRuntime, agent_type: str, make: Callable[[], Counter]
) -> None:
    await worker.register_factory(agent_type, make)
    await worker.add_subscription(TypeSubscription(f"{agent_type}-topic", agent_type))


async def publish(worker: GrpcWorkerRuntime, agent_type: str, value: int) -> None:
    await worker.publish_message(
        wrappers_pb2.Int64Value(value=value), TopicId(f"{agent_type}-topic", "k")
    )


async def until(condition: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {WAIT:g} s waiting for {what}")
        await asyncio.sleep(0.005)


async def test_a_slow_agent_holds_up_no_one_and_its_flood_stops_at_the_publisher() -> (
    None
):
    gate = asyncio.Event()
    slow, fast, other = Tally(), Tally(), Tally()
    async with (
        GrpcHost("127.0.0.1:0", client_queue_size=HOST_QUEUE) as host,
        running(
            host.address, mailbox_capacity=MAILBOX, backlog_limit=BACKLOG
        ) as crowded,
        running(host.address) as elsewhere,
        running(host.address, outbox_size=OUTBOX) as flooder,
        running(host.address) as bystander,
    ):
        await serve(crowded, "slow", lambda: Counter(slow, gate))
        await serve(crowded, "fast", lambda: Counter(fast))
        await serve(elsewhere, "other", lambda: Counter(other))

        # A burst for the slow agent: past its mailbox, within its worker's backlog.
        burst = BACKLOG // 2
        for seq in range(burst):
            await publish(flooder, "slow", seq)
        # The burst travels from another publisher than the messages below:
        # wait until all of it is queued at the crowded worker.
        await until(
            lambda: crowded.queued_messages == burst - 1, "the burst to be queued"
        )
        for seq in range(50):
            await publish(bystander, "fast", seq)
            await publish(bystander, "other", seq)
        await fast.wait_until(lambda: fast.count() == 50, "its neighbour's messages")
        await other.wait_until(lambda: other.count() == 50, "the other worker's")
        assert slow.count() == 0  # still stuck on its first message
        assert MAILBOX < crowded.queued_messages == burst - 1 < BACKLOG
        assert crowded.counters.intake_pauses == 0

        # A flood for it: the backlog fills, the worker stops reading, the host
        # stops reading from the flooder, whose publish_message then waits.
        published = burst
        flooding = True

        async def flood() -> None:
            nonlocal published
            while flooding and published < FLOOD_LIMIT:
                await publish(flooder, "slow", published)
                published += 1

        flood_task = asyncio.create_task(flood())
        await until(
            lambda: flooder.queued_for_host == OUTBOX
            and crowded.counters.intake_pauses > 0,
            "back-pressure to reach the flooder",
        )
        assert not flood_task.done()  # its publish_message is waiting
        assert flooder.counters.published == published
        assert crowded.queued_messages <= BACKLOG  # memory stays bounded
        # Meanwhile other workers are served as usual.
        for seq in range(50, 100):
            await publish(bystander, "other", seq)
        await other.wait_until(lambda: other.count() == 100, "the other worker")

        flooding = False
        gate.set()
        await asyncio.wait_for(flood_task, WAIT)
        await slow.wait_until(lambda: slow.count() == published, "the flood", WAIT)
        await crowded.stop_when_idle()

    assert slow.received["k"] == list(range(published))  # each once, in order
    assert fast.received["k"] == list(range(50))
    assert other.received["k"] == list(range(100))
    print(
        f"\nslow consumer: {published} published before and while the flooder "
        f"waited; worker intake paused {crowded.counters.intake_pauses} times"
    )


class Asker(Agent):
    """For each Int64Value, once its gate opens, asks an echo agent by RPC."""

    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_value", wrappers_pb2.Int64Value, None),
    )

    def __init__(self, tally: Tally, gate: asyncio.Event) -> None:
        self.tally = tally
        self.gate = gate

    async def on_value(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        await self.gate.wait()
        reply = await self.send_message(
            wrappers_pb2.StringValue(value=str(message.value)), AgentId("echo", "k")
        )
        assert isinstance(reply, wrappers_pb2.StringValue)
        self.tally.add(self.id.key, int(reply.value.removeprefix("echo:")))


async def test_replies_reach_an_agent_whose_worker_stopped_reading() -> None:
    gate = asyncio.Event()
    answered = Tally()
    events = 3 * BACKLOG
    async with (
        GrpcHost("127.0.0.1:0", client_queue_size=HOST_QUEUE) as host,
        running(
            host.address,
            mailbox_capacity=MAILBOX,
            backlog_limit=BACKLOG,
            rpc_timeout=REPLY_WITHIN,
        ) as asking,
        running(host.address) as answering,
        running(host.address) as publisher,
    ):
        await answering.register_factory("echo", Echo)
        await asking.register_factory("asker", lambda: Asker(answered, gate))
        await asking.add_subscription(TypeSubscription("asker-topic", "asker"))
        for seq in range(events):
            await publish(publisher, "asker", seq)
        await until(
            lambda: asking.counters.intake_pauses > 0
            and asking.queued_messages >= BACKLOG,
            "the asking worker to stop reading",
        )
        # Its agent now calls out while its own backlog is full: each reply
        # must come back at once, not after the events queued before it.
        gate.set()
        await answered.wait_until(
            lambda: answered.count() == events, "every answer", WAIT
        )
    assert answered.received["k"] == list(range(events))
    assert asking.counters.rpc_failed == 0


async def test_a_reply_to_a_caller_that_stopped_reading_does_not_stall_the_callee() -> (
    None
):
    # At the router: a reply must not wait for room in its caller's queue, or
    # the callee's whole stream (its events, other replies) waits with it.
    router = HostRouter(
        rpc_timeout=WAIT,
        outbox_limit=2,
        counters=HostCounters(),
        hold_unrouted=0,
        hold_unrouted_bytes=0,
    )
    to_caller = router.registry.open_channel("caller")
    to_callee = router.registry.open_channel("callee")
    router.registry.register_agent_type("callee", "echo")
    request = pb.Message()
    request.request.request_id = "call-1"
    request.request.target.type = "echo"
    request.request.target.key = "k"
    await router.on_frame("caller", request.SerializeToString())
    forwarded = to_callee.get_nowait()
    assert forwarded is not None
    while not to_caller.full:  # the caller reads nothing any more
        to_caller.put_urgent(b"an event it has not read")

    reply = pb.Message()
    reply.response.request_id = pb.Message.FromString(forwarded).request.request_id
    await asyncio.wait_for(router.on_frame("callee", reply.SerializeToString()), 5)
    assert router.counters.rpc_replies == 1
    queued = to_caller.drain()
    assert pb.Message.FromString(queued[-1]).response.request_id == "call-1"
