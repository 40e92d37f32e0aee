"""The eager RPC step: a handler's first step run as its agent's task.

An RPC to an idle agent runs the handler's first step at once, in the
caller's task, instead of queueing it for the agent's task and waiting two
event-loop turns (``LocalAgents.send_eagerly``). The handler must still see
itself running as the agent's task: ``asyncio.current_task()``,
``asyncio.timeout`` and task groups read the event loop's current task.

asyncio has no public way to change it, so this module, and only this one in
agentgen, uses asyncio's private ``_enter_task`` and ``_leave_task`` (what
``Task.__step`` itself calls). They exist on every supported Python, in C
and in pure Python; ``tests/runtime/local/test_eager_switch.py`` fails if they
disappear or stop switching the current task. :func:`run_first_step` calls
them inline, not through :func:`run_as_task`: a frame and an argument tuple
less on every RPC (about 10% of an in-process RPC).
"""

from __future__ import annotations

import asyncio
import contextvars
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from types import CoroutineType
from typing import Any, TypeVar

from ..agent import Agent, Handler
from ..context import MessageContext
from ..ids import AgentId
from .mailbox import Envelope, Mailbox
from .outcomes import handler_cancelled, handler_failed, settle

__all__ = ["Started", "run_as_task", "run_first_step", "start_handler"]

T = TypeVar("T")

Started = tuple[Handler, Coroutine[Any, Any, Any], Any]
"""A handler call started by :func:`run_first_step`, and what it awaits."""

_BASE_ON_MESSAGE = Agent.on_message


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


def run_first_step(
    caller: asyncio.Task[Any],
    mailbox: Mailbox,
    envelope: Envelope,
    agents: Mapping[AgentId, Agent],
    deliver: Callable[[Mailbox, Envelope, Started | None], Coroutine[Any, Any, object]],
) -> None:
    """Run ``envelope``'s handler up to its first await, as the agent's task.

    ``caller`` is the current task; ``mailbox`` is idle and reserved. A
    handler that returns at once is settled here; otherwise what is left
    (or, for agent creation, unknown types and agents with their own
    ``on_message``, the whole ``deliver`` call) goes to the mailbox's task.
    """
    task = mailbox.task
    assert task is not None
    loop = caller.get_loop()
    message, ctx, _ = envelope
    agent_id = mailbox.agent_id
    agent = mailbox.agent  # None until a queued delivery has made or found it
    handler = None
    if agent is not None and type(agent).on_message is _BASE_ON_MESSAGE:
        handler = agent.HANDLERS_BY_TYPE.get(type(message))
    try:
        if handler is None:
            call: Coroutine[Any, Any, Any] = deliver(mailbox, envelope, None)
            awaited = run_as_task(loop, caller, task, mailbox.context, call.send, None)
        else:
            method = getattr(agent, handler.method)
            _leave_task(loop, caller)
            _enter_task(loop, task)
            try:
                call, awaited = mailbox.context.run(start_handler, method, message, ctx)
            finally:
                _leave_task(loop, task)
                _enter_task(loop, caller)
    except StopIteration as stop:
        if handler is not None:
            settle(agent_id, envelope, handler, stop.value, agents)
        return
    except asyncio.CancelledError:
        if handler is None:
            raise
        handler_cancelled(agent_id, envelope, agents)
        return
    except Exception as error:
        if handler is None:
            raise
        handler_failed(agent_id, envelope, error, agents)
        return
    finally:
        mailbox.reserved = False
        mailbox.delivering = None
    if handler is not None:
        # The agent's task settles it through deliver(), started here up to
        # where it waits for what the handler awaits (no handler code runs).
        call = deliver(mailbox, envelope, (handler, call, awaited))
        awaited = call.send(None)
    mailbox.delivering = envelope
    mailbox.hand_off(call, awaited)
