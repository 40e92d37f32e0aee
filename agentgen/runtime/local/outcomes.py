"""How a delivery ends: an RPC's reply settled, a failure logged and passed on.

``created`` is the table of agents made so far: a failure for an agent not in
it means its factory failed, which the log line says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Container
from typing import Any

from ..agent import Handler, expect_reply
from ..errors import RemoteError, UndeliverableError, UnexpectedReplyError
from ..ids import AgentId
from .mailbox import Envelope

__all__ = ["fail_envelope", "handler_cancelled", "handler_failed", "settle"]

logger = logging.getLogger("agentgen.runtime")


def settle(
    agent_id: AgentId,
    envelope: Envelope,
    handler: Handler,
    result: Any,
    created: Container[AgentId],
) -> None:
    """Settle a delivery whose handler returned ``result`` (checked for RPCs)."""
    _, ctx, reply = envelope
    if ctx.is_rpc:
        try:
            expect_reply(result, handler.response, method=handler.method)
        except UnexpectedReplyError as error:
            handler_failed(agent_id, envelope, error, created)
            return
    if reply is not None and not reply.done():
        reply.set_result(result)


def handler_cancelled(
    agent_id: AgentId, envelope: Envelope, created: Container[AgentId]
) -> None:
    """The handler was cancelled (through its cancellation token, or it
    cancelled its own task): its message failed, the agent goes on."""
    task = asyncio.current_task()
    while task is not None and task.cancelling():
        task.uncancel()
    message_id = envelope[1].message_id
    cancelled = RemoteError(
        "CancelledError",
        f"the handler of {agent_id} was cancelled (message {message_id})",
    )
    handler_failed(agent_id, envelope, cancelled, created, cancelled=True)


def handler_failed(
    agent_id: AgentId,
    envelope: Envelope,
    error: Exception,
    created: Container[AgentId],
    *,
    cancelled: bool = False,
) -> None:
    """Log a failed handler (or agent factory); tell an RPC's caller.

    The log names the agent and the message id; a failed RPC is a warning
    (its caller gets the error too), a failed event an error.
    """
    _, ctx, reply = envelope
    if cancelled:
        failure = "was cancelled handling"
    elif agent_id not in created:
        failure = "could not be created for"
    else:
        failure = "failed on"
    logger.log(
        logging.WARNING if reply is not None else logging.ERROR,
        "agent %s %s %s %s%s",
        agent_id,
        failure,
        "RPC" if ctx.is_rpc else "message",
        ctx.message_id,
        "" if ctx.topic_id is None else f" (topic {ctx.topic_id})",
        exc_info=None if cancelled else error,
    )
    if reply is not None and not reply.done():
        reply.set_exception(error)


def fail_envelope(envelope: Envelope, reason: str) -> None:
    """A message that will not be handled: its RPC caller is told, an event logged."""
    _, ctx, reply = envelope
    if reply is not None and not reply.done():
        reply.set_exception(UndeliverableError(f"not handled: {reason}"))
    elif reply is None:
        logger.warning(
            "message %s to a stopped agent was not handled: %s",
            ctx.message_id,
            reason,
        )
