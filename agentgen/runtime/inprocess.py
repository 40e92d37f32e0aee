"""A runtime whose agents all live in this process."""

from __future__ import annotations

from typing import Any

from .base import YIELD_EVERY, BaseRuntime
from .context import MessageContext
from .ids import AgentId, TopicId
from .mailbox import Envelope, Mailbox
from .topics import default_topic_for

__all__ = ["InProcessRuntime"]


class InProcessRuntime(BaseRuntime):
    """Delivers published messages and RPCs to agents of this process.

    Messages are passed by reference, not serialized. Each agent handles one
    message at a time, in arrival order; different agents run concurrently.
    """

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId | None = None,
        *,
        sender: AgentId | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish ``message`` to ``topic_id`` (default: its type's topic)."""
        topic = topic_id if topic_id is not None else default_topic_for(message)
        self._turn_calls += 1
        if self._turn_calls >= YIELD_EVERY:
            await self._yield_turn()
        # Queued here rather than in a helper coroutine: one coroutine frame
        # less per publish. Waits only for full mailboxes (back-pressure).
        full: list[tuple[Mailbox, Envelope]] = []
        self._queue_event(
            message, topic, sender, message_id or self.new_message_id(), full
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
        message_id = message_id or self.new_message_id()
        self._turn_calls += 1
        if self._turn_calls >= YIELD_EVERY:
            await self._yield_turn()
        caller = self._eager_caller()
        mailbox = self._mailboxes.get(recipient)
        if caller is None or mailbox is None or not mailbox.ready:
            reply = await self._dispatch_request(message, recipient, sender, message_id)
            return await self._await_reply(reply, recipient, timeout)
        self._require_running()
        reply = caller.get_loop().create_future()
        mailbox.reserved = True
        self._begin_work()
        self._run_eagerly(
            caller,
            mailbox,
            recipient,
            (message, MessageContext(sender, None, True, message_id), reply),
        )
        if reply.done():
            return self._reply_outcome(reply)
        return await self._await_reply(reply, recipient, timeout)
