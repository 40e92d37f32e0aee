"""RPC deadlines: one timer for many calls (agentgen/runtime/deadlines.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    Agent,
    AgentId,
    Handler,
    InProcessRuntime,
    MessageContext,
    RemoteError,
    RpcTimeoutError,
)
from agentgen.runtime.deadlines import DEADLINE_SLACK, Deadlines

WAIT_LIMIT = 5.0


def _failing(reply: asyncio.Future[Any], error: BaseException) -> Any:
    def expire() -> None:
        reply.set_exception(error)

    return expire


async def test_a_pending_reply_fails_at_its_deadline() -> None:
    deadlines = Deadlines()
    reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    started = time.monotonic()
    deadlines.add(reply, 0.05, _failing(reply, TimeoutError("late")))

    with pytest.raises(TimeoutError, match="late"):
        await asyncio.wait_for(reply, WAIT_LIMIT)

    assert 0.05 <= time.monotonic() - started < WAIT_LIMIT
    deadlines.release()


async def test_an_earlier_deadline_added_later_still_fires_first() -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    slow: asyncio.Future[Any] = loop.create_future()
    fast: asyncio.Future[Any] = loop.create_future()
    deadlines.add(slow, 60.0, _failing(slow, TimeoutError("slow")))
    deadlines.add(fast, 0.02, _failing(fast, TimeoutError("fast")))

    with pytest.raises(TimeoutError, match="fast"):
        await asyncio.wait_for(fast, WAIT_LIMIT)

    assert not slow.done()
    deadlines.clear()


async def test_answered_replies_are_never_expired_and_are_dropped() -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    expired: list[int] = []

    def recorder(index: int) -> Any:
        return lambda: expired.append(index)

    for index in range(5_000):
        reply: asyncio.Future[Any] = loop.create_future()
        deadlines.add(reply, 0.01, recorder(index))
        reply.set_result(index)
        deadlines.release()
    assert len(deadlines) <= 2_048  # compacted while calls complete

    probe: asyncio.Future[Any] = loop.create_future()
    deadlines.add(probe, 0.01, _failing(probe, TimeoutError("probe")))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(probe, WAIT_LIMIT)
    assert expired == []
    assert DEADLINE_SLACK < 0.05


class _Record:
    """A call that is not a future (the host's forwarded requests)."""

    def __init__(self) -> None:
        self.settled = False

    def done(self) -> bool:
        return self.settled


async def test_absolute_deadlines_for_any_call_with_done() -> None:
    deadlines = Deadlines()
    loop = asyncio.get_running_loop()
    fired: asyncio.Future[str] = loop.create_future()
    answered, silent = _Record(), _Record()
    now = loop.time()
    deadlines.add_at(loop, now + 0.01, answered, lambda: fired.set_result("answered"))
    deadlines.add_at(loop, now + 0.02, silent, lambda: fired.set_result("silent"))
    answered.settled = True
    deadlines.release()

    assert await asyncio.wait_for(fired, WAIT_LIMIT) == "silent"
    assert loop.time() >= now + 0.02
    deadlines.release()


class Napper(Agent):
    """Holds a positive value until released; fails like a nested timeout on -1."""

    AGENT_TYPE: ClassVar[str] = "napper"
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("nap", wrappers_pb2.DoubleValue, wrappers_pb2.DoubleValue),
    )

    def __init__(self) -> None:
        self.released = asyncio.Event()

    async def nap(
        self, message: wrappers_pb2.DoubleValue, ctx: MessageContext
    ) -> wrappers_pb2.DoubleValue:
        if message.value < 0:
            raise RpcTimeoutError("a nested call timed out")
        if message.value > 0:
            await self.released.wait()
        return message


async def test_runtime_timeouts_and_handler_timeouts_stay_apart() -> None:
    async with InProcessRuntime(rpc_timeout=30) as runtime:
        await runtime.register_agent_class(Napper)
        slow, fast = AgentId("napper", "slow"), AgentId("napper", "fast")

        with pytest.raises(RemoteError, match="a nested call timed out"):
            await runtime.send_message(wrappers_pb2.DoubleValue(value=-1), fast)

        held = asyncio.create_task(
            runtime.send_message(wrappers_pb2.DoubleValue(value=1), slow)
        )
        with pytest.raises(RpcTimeoutError, match="napper/fast"):
            await runtime.send_message(
                wrappers_pb2.DoubleValue(value=1), fast, timeout=0.05
            )
        assert not held.done()  # its deadline (30 s) is not the short one's

        napper = await runtime.get_agent(slow)
        assert isinstance(napper, Napper)
        napper.released.set()
        reply = await asyncio.wait_for(held, WAIT_LIMIT)
        assert reply.value == 1
