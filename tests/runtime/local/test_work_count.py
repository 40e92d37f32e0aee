"""WorkCount: the unfinished work ``stop_when_idle`` waits for."""

from __future__ import annotations

import asyncio

import pytest

from agentgen.runtime.local import WorkCount
from tests.support.grpc_harness import bounded, settle


async def test_waiting_for_idle_returns_at_once_with_nothing_left() -> None:
    await bounded(WorkCount().wait_idle())


async def test_waiting_for_idle_lasts_until_every_unit_is_done() -> None:
    work = WorkCount()
    work.add(2)
    waiting = asyncio.create_task(work.wait_idle())
    work.done()
    await settle()
    assert not waiting.done()
    work.done()
    await bounded(waiting)
    assert work.count == 0


async def test_work_added_again_before_the_waiter_runs_keeps_it_waiting() -> None:
    work = WorkCount()
    work.add()
    waiting = asyncio.create_task(work.wait_idle())
    await settle()
    work.done()  # idle: the waiter is woken...
    work.add()  # ...but busy again before it runs
    await settle()
    assert not waiting.done()
    work.done()
    await bounded(waiting)


def test_holding_counts_one_unit_for_the_block_even_when_it_raises() -> None:
    work = WorkCount()
    with pytest.raises(ValueError, match="inside"), work.holding():
        assert work.count == 1
        raise ValueError("inside")
    assert work.count == 0
