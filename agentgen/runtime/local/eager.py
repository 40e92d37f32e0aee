"""Running code as another task: the task switch of eager in-process RPCs.

An in-process RPC to an idle agent runs the handler's first step at once, in
the caller's task, instead of queueing it for the agent's task and waiting
two event-loop turns (``LocalAgents.send_eagerly``). The handler must still
see itself running as the agent's task: ``asyncio.current_task()``,
``asyncio.timeout`` and task groups read the event loop's current task.

asyncio has no public way to change it, so this module, and only this one in
agentgen, uses asyncio's private ``_enter_task`` and ``_leave_task`` (what
``Task.__step`` itself calls). They exist on every supported Python, in C
and in pure Python; ``tests/runtime/local/test_eager_switch.py`` fails if they
disappear or stop switching the current task.
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Awaitable, Callable, Coroutine
from types import CoroutineType
from typing import Any, TypeVar

from ..context import MessageContext

__all__ = ["run_as_task", "start_handler"]

T = TypeVar("T")


def run_as_task(
    loop: asyncio.AbstractEventLoop,
    caller: asyncio.Task[Any],
    task: asyncio.Task[Any],
    context: contextvars.Context,
    function: Callable[..., T],
    *args: Any,
) -> T:
    """Call ``function(*args)`` in ``context`` with ``task`` as the current task.

    ``caller`` must be the current task; it is current again when this
    returns or raises (whatever ``function`` raised, ``StopIteration``
    included, propagates).
    """
    _leave_task(loop, caller)
    _enter_task(loop, task)
    try:
        return context.run(function, *args)
    finally:
        _leave_task(loop, task)
        _enter_task(loop, caller)


def start_handler(
    method: Callable[[Any, MessageContext], Awaitable[Any]],
    message: Any,
    ctx: MessageContext,
) -> tuple[Coroutine[Any, Any, Any], Any]:
    """Call a handler and run it up to its first await: the call, and what it
    awaits. Raises ``StopIteration`` with the result if it did not await."""
    call = method(message, ctx)
    if type(call) is not CoroutineType:
        call = _await(call)  # a plain method returning an awaitable
    return call, call.send(None)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
