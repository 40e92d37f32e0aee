"""The agents of one process and the delivery of messages to them.

:class:`LocalAgents` is the part every runtime shares, whatever carries its
messages (in-process, the gRPC worker, a NATS worker): it makes agents
(:class:`~.instances.AgentInstances`), queues each message in its agent's
mailbox (one message at a time per agent, in arrival order), runs the
handler, and settles the outcome: an RPC's reply future gets the result or
the handler's exception, a failed event is logged. A runtime decides where
messages go and hands them over with :meth:`LocalAgents.queue_event`,
:meth:`LocalAgents.queue_request`, :meth:`LocalAgents.request` or
:meth:`LocalAgents.send_eagerly`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..agent import Agent, Handler, expect_reply
from ..context import MessageContext
from ..ids import AgentId, TopicId
from ..log_text import FirstTimes, clip
from .eager import Started, run_first_step
from .instances import AgentInstances
from .mailbox import Backlog, Envelope, Mailbox, resume
from .observers import DeliveryObserver
from .outcomes import fail_envelope, handler_cancelled, handler_failed
from .work import WorkCount

if TYPE_CHECKING:
    from ..interface import AgentRuntime

__all__ = [
    "DEFAULT_BACKLOG_LIMIT",
    "DEFAULT_MAILBOX_CAPACITY",
    "EAGER_DEPTH_LIMIT",
    "LocalAgents",
]

logger = logging.getLogger("agentgen.runtime")

DEFAULT_MAILBOX_CAPACITY = 10_000
"""Messages queued per agent before publishers wait (back-pressure)."""
DEFAULT_BACKLOG_LIMIT = 20_000
"""Messages queued in all mailboxes together before intake from the network pauses."""
EAGER_DEPTH_LIMIT = 16
"""RPCs delivered in their caller's task inside one another (an agent's
handler calling another agent) before further ones are queued instead."""

_BASE_ON_MESSAGE = Agent.on_message


class LocalAgents:
    """Agents, mailboxes and delivery of one runtime (see the module docstring).

    ``work`` counts what is queued or being handled (idle at zero);
    ``backlog`` counts what is queued in all mailboxes, for intake from the
    network to pause on.
    """

    def __init__(
        self,
        runtime: AgentRuntime,
        *,
        mailbox_capacity: int = DEFAULT_MAILBOX_CAPACITY,
        backlog_limit: int = DEFAULT_BACKLOG_LIMIT,
    ) -> None:
        if mailbox_capacity < 1:
            raise ValueError("mailbox_capacity must be at least 1")
        if backlog_limit < 1:
            raise ValueError("backlog_limit must be at least 1")
        self.mailbox_capacity = mailbox_capacity
        self.instances = AgentInstances(runtime)
        self._agents = self.instances.agents  # live tables, read per message
        self._factories = self.instances.factories
        self.backlog = Backlog(backlog_limit)
        self.work = WorkCount()
        self.running = False
        """Whether messages are delivered (set by the runtime)."""
        self._mailboxes: dict[AgentId, Mailbox] = {}
        self._eager_depth = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._logged = FirstTimes()
        self._observers: tuple[DeliveryObserver, ...] = ()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver messages on ``loop`` from now on."""
        self._loop = loop
        self.running = True

    # -- handing messages over ---------------------------------------------

    def queue_event(
        self,
        message: Any,
        topic_id: TopicId,
        sender: AgentId | None,
        message_id: str,
        recipients: tuple[AgentId, ...],
        full: list[tuple[Mailbox, Envelope]] | None = None,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> int:
        """Queue a published message for ``recipients`` but the sender; how many.

        Never waits: envelopes for full mailboxes go to ``full`` for the
        caller to :meth:`~Mailbox.put`, or without ``full`` are queued over
        capacity (intake from the network, bounded by the backlog).
        Recipients of types not registered here are skipped (logged once).
        ``trace_carrier`` (the sender's trace context, when tracing is on)
        goes into each :class:`MessageContext`.
        """
        queued = 0
        factories = self._factories
        mailboxes = self._mailboxes
        for recipient in recipients:
            if sender is not None and recipient == sender:
                continue
            if recipient.type not in factories:
                self._warn_foreign_type(recipient, topic_id)
                continue
            envelope: Envelope = (
                message,
                MessageContext(sender, topic_id, False, message_id),
                None,
            )
            if trace_carrier is not None:
                envelope[1].trace_carrier = trace_carrier
            mailbox = mailboxes.get(recipient)
            if mailbox is None:
                mailbox = self._new_mailbox(recipient)
            if full is None:
                mailbox.offer(envelope, False)
            elif not mailbox.offer(envelope):
                full.append((mailbox, envelope))
            queued += 1
        if not queued and self._logged.first(topic_id.type):
            logger.info(
                "no local subscriber for topic type %s (message %s); logged once "
                "per topic type",
                clip(topic_id.type),
                clip(message_id),
            )
        return queued

    def queue_request(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        message_id: str,
        *,
        wait: bool = False,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> tuple[asyncio.Future[Any], Mailbox | None, Envelope]:
        """Queue an RPC for a local agent without waiting.

        Returns the reply future (it gets the handler's result, or its own
        exception), and with ``wait``, the full mailbox the caller must
        :meth:`~Mailbox.put` the envelope into (else ``None``: queued, over
        capacity if need be). :class:`UndeliverableError` for a type not
        registered here. ``trace_carrier``: as for :meth:`queue_event`.
        """
        self.instances.require_type(recipient.type)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        envelope: Envelope = (
            message,
            MessageContext(sender, None, True, message_id, None, trace_carrier),
            reply,
        )
        mailbox = self._mailbox(recipient)
        if mailbox.offer(envelope):
            return reply, None, envelope
        if wait:
            return reply, mailbox, envelope
        mailbox.put_nowait(envelope)
        return reply, None, envelope

    async def request(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        message_id: str,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> asyncio.Future[Any]:
        """Queue an RPC, waiting while the recipient's mailbox is full.

        Unless the recipient is the sender (it could not drain its mailbox
        while it waits). Returns the reply future (see :meth:`queue_request`).
        """
        reply, mailbox, envelope = self.queue_request(
            message,
            recipient,
            sender,
            message_id,
            wait=recipient != sender,
            trace_carrier=trace_carrier,
        )
        if mailbox is not None:
            await mailbox.put(envelope)
        return reply

    def send_eagerly(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        message_id: str,
    ) -> asyncio.Future[Any] | None:
        """Run an RPC's handler now, in the caller's task, up to its first await.

        Only for an idle recipient (its mailbox's task waits for work) and
        below :data:`EAGER_DEPTH_LIMIT` nested calls; else ``None``: queue it.
        The handler runs as the agent's own task would run it (see
        :mod:`.eager`), and the caller's cancellation cannot reach it.
        Whatever is left after its first await goes to the agent's task.
        Saves the two event-loop turns of a queued delivery. Returns the
        reply future, possibly done already.
        """
        mailbox = self._mailboxes.get(recipient)
        if (
            mailbox is None
            or not mailbox.ready
            or self._observers
            or self._eager_depth >= EAGER_DEPTH_LIMIT
            or (caller := asyncio.current_task(self._loop)) is None
        ):
            return None
        reply = caller.get_loop().create_future()
        envelope: Envelope = (
            message,
            MessageContext(sender, None, True, message_id),
            reply,
        )
        mailbox.reserved = True
        mailbox.delivering = envelope
        work = self.work
        work.count += 1  # WorkCount.add(), inlined
        if work.count == 1:
            work.busy()
        self._eager_depth += 1
        try:
            run_first_step(
                caller,
                mailbox,
                envelope,
                self.instances.agents,
                self.deliver,
            )
        finally:
            self._eager_depth -= 1
            work.count -= 1  # the rest, if any, was handed off: counted there
            if work.count == 0:
                work.idle()
        return reply

    # -- mailboxes -----------------------------------------------------------

    @property
    def mailbox_count(self) -> int:
        """Mailboxes made so far (one per agent that received a message)."""
        return len(self._mailboxes)

    def _mailbox(self, agent_id: AgentId) -> Mailbox:
        # Not ``get(...) or new``: an empty mailbox is falsy (it has a length),
        # and replacing it would let a second task run the same agent's
        # handlers concurrently.
        mailbox = self._mailboxes.get(agent_id)
        return mailbox if mailbox is not None else self._new_mailbox(agent_id)

    def _new_mailbox(self, agent_id: AgentId) -> Mailbox:
        mailbox = self._mailboxes[agent_id] = Mailbox(
            self.deliver,
            self.mailbox_capacity,
            self.backlog,
            self.work,
            agent_id,
        )
        return mailbox

    async def evict(self, agent_id: AgentId) -> Agent | None:
        """Forget an idle agent made here; ``None`` if busy or never made.

        The agent is neither saved nor closed: the caller does (another
        process serves its key now). Its next message makes a new one.
        """
        mailbox = self._mailboxes.get(agent_id)
        if mailbox is not None:
            if len(mailbox) or not mailbox.ready:
                return None
            del self._mailboxes[agent_id]
            await mailbox.close()
        return self.instances.agents.pop(agent_id, None)

    async def close(self, reason: str) -> None:
        """Stop delivering: cancel handlers, fail what is queued with ``reason``."""
        self.running = False
        mailboxes = list(self._mailboxes.values())
        self._mailboxes.clear()
        for mailbox in mailboxes:
            await mailbox.close()
            for envelope in mailbox.drain():
                fail_envelope(envelope, reason)

    # -- delivery ------------------------------------------------------------

    async def deliver(
        self,
        mailbox: Mailbox,
        envelope: Envelope,
        started: Started | None = None,
        *,
        observed: bool = False,
    ) -> BaseException | None:
        """Run the handler of ``mailbox``'s agent for ``envelope``; settle it.

        With ``started``, :meth:`send_eagerly` began the handler's call: it
        is resumed where it awaits. Returns the handler's failure (``None``
        when it succeeded). Observers, if any, are called around it
        (``observed``: they already were).
        """
        if self._observers and not observed:
            return await self._deliver_observed(mailbox, envelope, started)
        message, ctx, reply = envelope
        try:
            if started is not None:
                handler: Handler | None = started[0]
                result = await resume(started[1], started[2])
            else:
                agent = mailbox.agent
                if agent is None:
                    agent = await self.instances.get(mailbox.agent_id)
                    mailbox.agent = agent
                handler = agent.HANDLERS_BY_TYPE.get(type(message))
                if handler is None or type(agent).on_message is not _BASE_ON_MESSAGE:
                    # Unknown message types and agents with their own
                    # on_message go through Agent.on_message (it raises
                    # UnhandledMessageError, and checks replies itself).
                    result = await agent.on_message(message, ctx)
                    handler = None
                else:
                    # Agent.on_message inlined: one coroutine frame less.
                    result = await getattr(agent, handler.method)(message, ctx)
            if handler is not None and ctx.is_rpc:
                expect_reply(result, handler.response, method=handler.method)
        except asyncio.CancelledError as cancelled:
            if not self.running:
                # The mailbox is closing: the runtime stops.
                fail_envelope(envelope, "the runtime stopped")
                raise
            handler_cancelled(mailbox.agent_id, envelope, self._agents)
            return cancelled
        except Exception as error:
            handler_failed(mailbox.agent_id, envelope, error, self._agents)
            return error
        if reply is not None and not reply.done():
            reply.set_result(result)
        return None

    async def _deliver_observed(
        self, mailbox: Mailbox, envelope: Envelope, started: Started | None
    ) -> BaseException | None:
        # A coroutine of its own: deliveries nobody observes pay nothing for it.
        observers = self._observers
        message, ctx, _ = envelope
        agent_id = mailbox.agent_id
        tokens = [observer.before(agent_id, message, ctx) for observer in observers]
        failure: BaseException | None = None
        try:
            failure = await self.deliver(mailbox, envelope, started, observed=True)
        except BaseException as error:  # the runtime stops: cancelled
            failure = error
            raise
        finally:
            for observer, token in zip(observers, tokens, strict=True):
                observer.after(token, failure)
        return failure

    # -- observers -----------------------------------------------------------

    def add_observer(self, observer: DeliveryObserver) -> Callable[[], None]:
        """Call ``observer`` around every delivery from now on; returns its remover.

        While any observer is present, RPCs are not delivered eagerly (see
        :meth:`send_eagerly`), so that every handler runs between ``before``
        and ``after`` in its agent's task.
        """
        self._observers = (*self._observers, observer)

        def remove() -> None:
            self._observers = tuple(o for o in self._observers if o is not observer)

        return remove

    def _warn_foreign_type(self, recipient: AgentId, topic_id: TopicId) -> None:
        if self._logged.first(f"{recipient.type}\0{topic_id.type}"):
            logger.warning(
                "a subscription maps topic %s to agent type %r, which is not "
                "registered in this runtime; not delivered here",
                topic_id,
                recipient.type,
            )
