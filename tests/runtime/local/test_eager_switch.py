"""The one use of asyncio's private API (``agentgen.runtime.local.eager``).

Eager in-process RPCs run a handler's first step as the agent's task by
calling ``asyncio.tasks._enter_task`` / ``_leave_task``. These tests fail if
a Python release removes them or they stop switching the current task.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio import tasks

import pytest

from agentgen.runtime.local.eager import run_as_task

_VARIABLE: contextvars.ContextVar[str] = contextvars.ContextVar("v", default="none")


async def _wait(future: asyncio.Future[None]) -> None:
    await future


def test_the_private_task_switch_still_exists() -> None:
    assert callable(getattr(tasks, "_enter_task", None))
    assert callable(getattr(tasks, "_leave_task", None))


async def test_run_as_task_makes_the_target_the_current_task_and_restores() -> None:
    caller = asyncio.current_task()
    assert caller is not None
    parked = asyncio.get_running_loop().create_future()
    target = asyncio.create_task(_wait(parked))
    context = contextvars.copy_context()
    context.run(_VARIABLE.set, "agent's")
    seen: list[object] = []

    def inside() -> str:
        seen.append(asyncio.current_task())
        return _VARIABLE.get()

    loop = asyncio.get_running_loop()
    assert run_as_task(loop, caller, target, context, inside) == "agent's"
    assert seen == [target]
    assert asyncio.current_task() is caller
    assert _VARIABLE.get() == "none"
    parked.set_result(None)
    await target


async def test_run_as_task_restores_the_caller_when_the_function_raises() -> None:
    caller = asyncio.current_task()
    assert caller is not None
    parked = asyncio.get_running_loop().create_future()
    target = asyncio.create_task(_wait(parked))

    def fails() -> None:
        assert asyncio.current_task() is target
        raise StopIteration("done")

    with pytest.raises(StopIteration):
        run_as_task(
            asyncio.get_running_loop(),
            caller,
            target,
            contextvars.copy_context(),
            fails,
        )
    assert asyncio.current_task() is caller
    parked.set_result(None)
    await target
