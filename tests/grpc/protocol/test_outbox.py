"""Outbox: a bounded, closable queue of frames for one stream."""

from __future__ import annotations

import asyncio

from agentgen.runtime.grpc.protocol.outbox import Outbox
from tests.support.grpc_harness import bounded


async def test_outbox_bounds_keeps_order_and_closes() -> None:
    outbox = Outbox[int](2)
    assert await outbox.put(1)
    assert await outbox.put(2)
    third = asyncio.create_task(outbox.put(3))
    await asyncio.sleep(0)
    assert not third.done()  # full: the producer waits
    assert await outbox.get() == 1
    assert await bounded(third)
    assert outbox.put_urgent(4)  # past the bound, never waits
    assert [await outbox.get(), await outbox.get(), await outbox.get()] == [2, 3, 4]
    waiting = asyncio.create_task(outbox.get())
    await asyncio.sleep(0)
    outbox.close()
    assert await bounded(waiting) is None
    assert not outbox.put_urgent(5)
    assert not await outbox.put(6)
