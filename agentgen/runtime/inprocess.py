"""A runtime whose agents all live in this process."""

from __future__ import annotations

import asyncio
from typing import Any

from .base import BaseRuntime
from .ids import AgentId, TopicId
from .local.mailbox import Envelope, Mailbox
from .local.replies import await_reply, reply_outcome
from .topics import default_topic_for

__all__ = ["YIELD_EVERY", "InProcessRuntime"]

YIELD_EVERY = 256
"""In-process publishes and RPCs after which the caller yields to the event
loop once. An RPC to an idle agent whose handler never awaits, and a publish
to mailboxes with room, complete without a turn of the loop: a loop of them
would never let other tasks run. Publishing in batches also keeps mailboxes
short (a quarter less CPU per message than filling them to capacity)."""


class InProcessRuntime(BaseRuntime):
    """Delivers published messages and RPCs to agents of this process.

    Messages are passed by reference, not serialized. Each agent handles one
    message at a time, in arrival order; different agents run concurrently.
    """

    _turn_calls = 0

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId | None = None,
        *,
        sender: AgentId | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish ``message`` to ``topic_id`` (default: its type's topic)."""
        if not self._running:
            self._require_running()
        topic = topic_id if topic_id is not None else default_topic_for(message)
        self._turn_calls += 1
        if self._turn_calls >= YIELD_EVERY:
            await self._yield_turn()
        if self._telemetry is not None:
            await self._publish_observed(
                message, topic, sender, message_id or self._ids.next()
            )
            return
        # Queued here rather than in a helper coroutine: one coroutine frame
        # less per publish. Waits only for full mailboxes (back-pressure).
        full: list[tuple[Mailbox, Envelope]] = []
        table = self.subscription_table
        recipients = table.cached_recipients.get(topic)
        if recipients is None:
            recipients = table.recipients(topic)
        self.local.queue_event(
            message, topic, sender, message_id or self._ids.next(), recipients, full
        )
        for mailbox, envelope in full:
            await mailbox.put(envelope)

    async def _publish_observed(
        self, message: Any, topic: TopicId, sender: AgentId | None, message_id: str
    ) -> None:
        """``publish_message`` with telemetry on: in its span, with its carrier."""
        assert self._telemetry is not None
        with self._telemetry.publishing(topic, message, message_id, sender) as carrier:
            full: list[tuple[Mailbox, Envelope]] = []
            self.local.queue_event(
                message,
                topic,
                sender,
                message_id,
                self.subscription_table.recipients(topic),
                full,
                carrier,
            )
            for mailbox, envelope in full:
                await mailbox.put(envelope)

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        timeout: float | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` to ``recipient`` and return its handler's reply.

        Raises :class:`~agentgen.runtime.errors.UndeliverableError` at once for
        an unregistered type, :class:`~agentgen.runtime.errors.RemoteError`
        when the handler raises, and
        :class:`~agentgen.runtime.errors.RpcTimeoutError` after ``timeout``
        seconds (default: the runtime's ``rpc_timeout``).
        """
        if not self._running:
            self._require_running()
        message_id = message_id or self._ids.next()
        self._turn_calls += 1
        if self._turn_calls >= YIELD_EVERY:
            await self._yield_turn()
        local = self.local
        telemetry = self._telemetry
        if telemetry is not None:  # no eager delivery: handlers run observed
            limit = self.rpc_timeout if timeout is None else timeout
            with telemetry.sending(recipient, message, message_id, sender) as carrier:
                queued = await local.request(
                    message, recipient, sender, message_id, carrier
                )
                return await await_reply(self._deadlines, queued, recipient, limit)
        reply = local.send_eagerly(message, recipient, sender, message_id)
        if reply is None:
            reply = await local.request(message, recipient, sender, message_id)
        elif reply.done():
            return reply_outcome(reply)
        limit = self.rpc_timeout if timeout is None else timeout
        return await await_reply(self._deadlines, reply, recipient, limit)

    async def _yield_turn(self) -> None:
        """Let other tasks run: see :data:`YIELD_EVERY`."""
        self._turn_calls = 0
        await asyncio.sleep(0)
