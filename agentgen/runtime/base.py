"""What every agentgen runtime shares: agents, mailboxes, routing, state.

A transport (in-process, gRPC) subclasses :class:`BaseRuntime` and decides
where published messages and RPCs go; the base owns the agents of this
process and delivers to them: one mailbox per agent (one message at a time,
in arrival order), local subscription matching, idle tracking and state.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import logging
from asyncio.tasks import _enter_task, _leave_task
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from types import CoroutineType, TracebackType
from typing import Any, Self, TypeVar

from .agent import Agent, Handler, expect_reply
from .context import MessageContext
from .deadlines import Deadlines
from .errors import (
    RemoteError,
    RpcTimeoutError,
    UndeliverableError,
    UnexpectedReplyError,
)
from .ids import AgentId, TopicId
from .log_text import clip
from .mailbox import Backlog, Envelope, Mailbox, resume
from .protocol import AgentFactory
from .serialization import MessageSerializer, SerializerRegistry, SerializerTable
from .signals import STOP_SIGNALS, signals_set
from .subscriptions import Subscription, TypePrefixSubscription, TypeSubscription
from .topics import default_topic_for
from .uuids import random_uuid

__all__ = [
    "DEFAULT_BACKLOG_LIMIT",
    "DEFAULT_MAILBOX_CAPACITY",
    "DEFAULT_RPC_TIMEOUT",
    "BaseRuntime",
]

logger = logging.getLogger("agentgen.runtime")

_BASE_ON_MESSAGE = Agent.on_message

DEFAULT_RPC_TIMEOUT = 30.0
"""Seconds an RPC waits for its reply unless told otherwise."""
DEFAULT_MAILBOX_CAPACITY = 10_000
"""Messages queued per agent before publishers wait (back-pressure)."""
DEFAULT_BACKLOG_LIMIT = 20_000
"""Messages queued in all mailboxes together before intake from the network pauses."""

A = TypeVar("A", bound=Agent)

_Started = tuple[Handler, Coroutine[Any, Any, Any], Any]
"""A handler call started by ``_run_eagerly``, and what it awaits."""

_CACHE_LIMIT = 10_000
"""Entries kept in per-topic caches before they are cleared."""

EAGER_DEPTH_LIMIT = 16
"""RPCs delivered in their caller's task inside one another (an agent's
handler calling another agent) before further ones are queued instead."""
YIELD_EVERY = 256
"""In-process publishes and RPCs after which the caller yields to the event
loop once. An RPC to an idle agent whose handler never awaits, and a publish
to mailboxes with room, complete without a turn of the loop: a loop of them
would never let other tasks run. Publishing in batches also keeps mailboxes
short (a quarter less CPU per message than filling them to capacity)."""


class BaseRuntime:
    """Agents, subscriptions, serializers and lifecycle shared by runtimes."""

    def __init__(
        self,
        *,
        rpc_timeout: float = DEFAULT_RPC_TIMEOUT,
        mailbox_capacity: int = DEFAULT_MAILBOX_CAPACITY,
        backlog_limit: int = DEFAULT_BACKLOG_LIMIT,
    ) -> None:
        if rpc_timeout <= 0:
            raise ValueError("rpc_timeout must be positive")
        if mailbox_capacity < 1:
            raise ValueError("mailbox_capacity must be at least 1")
        if backlog_limit < 1:
            raise ValueError("backlog_limit must be at least 1")
        self.rpc_timeout = rpc_timeout
        self.mailbox_capacity = mailbox_capacity
        self._backlog = Backlog(backlog_limit)
        self.serializers = SerializerRegistry()
        self._factories: dict[str, AgentFactory] = {}
        self._agents: dict[AgentId, Agent] = {}
        self._mailboxes: dict[AgentId, Mailbox] = {}
        self._creating: dict[AgentId, asyncio.Future[Agent]] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._recipients_cache: dict[TopicId, tuple[AgentId, ...]] = {}
        self._unrouted_topics: set[str] = set()
        self._outstanding = 0
        self._idle: asyncio.Event | None = None
        self._stop_requested: asyncio.Event | None = None
        self._running = False
        self._id_prefix = f"{random_uuid()}-"
        self._id_counter = itertools.count(1)
        self._deadlines = Deadlines()
        self._eager_depth = 0
        self._turn_calls = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ---------------------------------------------------------

    @property
    def is_running(self) -> bool:
        """Whether :meth:`start` was called and :meth:`stop` was not."""
        return self._running

    async def start(self) -> None:
        """Start processing messages."""
        if self._running:
            raise RuntimeError(f"{type(self).__name__} is already running")
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Event()
        self._idle.set()
        self._stop_requested = asyncio.Event()
        await self._on_start()
        self._running = True

    async def stop(self) -> None:
        """Stop: cancel queued work, fail pending RPCs, close every agent."""
        if not self._running:
            return
        self._running = False
        mailboxes = list(self._mailboxes.values())
        self._mailboxes.clear()
        for mailbox in mailboxes:
            await mailbox.close()
            for envelope in mailbox.drain():
                self._fail_envelope(envelope, "the runtime stopped")
        await self._on_stop()
        self._deadlines.clear()
        agents = list(self._agents.values())
        self._agents.clear()
        for agent in agents:
            try:
                await agent.close()
            except Exception:
                logger.exception("agent %s failed to close", agent.id)
        if self._idle is not None:
            self._idle.set()

    async def stop_when_idle(self) -> None:
        """Wait until no message is queued or being handled here, then stop."""
        self._require_running()
        assert self._idle is not None
        await self._idle.wait()
        await self.stop()

    def request_stop(self) -> None:
        """Ask :meth:`stop_when_signal` to stop (e.g. from inside a handler)."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def stop_when_signal(self, signals: Sequence[int] = STOP_SIGNALS) -> None:
        """Wait for one of ``signals`` (or :meth:`request_stop`), then stop."""
        self._require_running()
        assert self._stop_requested is not None
        with signals_set(self._stop_requested, signals):
            await self._stop_requested.wait()
        await self.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- transport hooks ---------------------------------------------------

    async def _on_start(self) -> None:
        """Transport start-up (connect); called by :meth:`start`."""

    async def _on_stop(self) -> None:
        """Transport shut-down; called by :meth:`stop` after mailboxes close."""

    async def _remote_register_type(self, agent_type: str) -> None:
        """Tell the transport this process hosts ``agent_type``."""

    async def _remote_add_subscription(self, subscription: Subscription) -> None:
        """Tell the transport about a new subscription."""

    async def _remote_remove_subscription(self, subscription_id: str) -> None:
        """Tell the transport a subscription is gone."""

    @property
    def queued_messages(self) -> int:
        """Messages queued in this runtime's mailboxes, not yet being handled."""
        return self._backlog.count

    # -- registration ------------------------------------------------------

    @property
    def agent_types(self) -> tuple[str, ...]:
        """The agent types registered in this runtime."""
        return tuple(self._factories)

    async def register_factory(self, agent_type: str, factory: AgentFactory) -> str:
        """Register ``agent_type``; ``factory`` makes one agent per id."""
        AgentId(agent_type)  # validates the type
        if agent_type in self._factories:
            raise ValueError(f"agent type {agent_type!r} is already registered")
        self._factories[agent_type] = factory
        try:
            await self._remote_register_type(agent_type)
        except BaseException:
            del self._factories[agent_type]
            raise
        return agent_type

    async def register_agent_class(
        self,
        cls: type[A],
        factory: Callable[[], A] | None = None,
        *,
        agent_type: str | None = None,
    ) -> str:
        """Register an agent class with its subscriptions and serializers.

        Adds one TypeSubscription per topic of ``cls.TOPIC_SUBSCRIPTIONS``,
        one TypePrefixSubscription per prefix of ``cls.PREFIX_SUBSCRIPTIONS``
        and the direct-message prefix ``"<type>:"`` (as AutoGen does).
        """
        resolved_type = agent_type or cls.AGENT_TYPE
        if not resolved_type:
            raise ValueError(f"{cls.__name__} has no AGENT_TYPE; pass agent_type=")
        if factory is None and inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            raise TypeError(
                f"{cls.__name__} is abstract (no implementation of {missing}): "
                "register the subclass that implements its handlers"
            )
        await self.register_factory(resolved_type, factory or cls)
        for topic_type in cls.TOPIC_SUBSCRIPTIONS:
            await self.add_subscription(TypeSubscription(topic_type, resolved_type))
        for prefix in (*cls.PREFIX_SUBSCRIPTIONS, f"{resolved_type}:"):
            await self.add_subscription(TypePrefixSubscription(prefix, resolved_type))
        for handler in cls.HANDLERS:
            self.serializers.add_classes(handler.request)
            if handler.response is not None:
                self.serializers.add_classes(handler.response)
        return resolved_type

    # -- subscriptions -----------------------------------------------------

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription added to this runtime."""
        return tuple(self._subscriptions.values())

    async def add_subscription(self, subscription: Subscription) -> None:
        """Add a subscription; a duplicate (same id or rule) is refused."""
        for existing in self._subscriptions.values():
            if existing.id == subscription.id or existing.same_rule(subscription):
                raise ValueError(f"subscription already exists: {existing!r}")
        await self._remote_add_subscription(subscription)
        self._subscriptions[subscription.id] = subscription
        self._recipients_cache.clear()

    async def remove_subscription(self, subscription_id: str) -> None:
        """Remove the subscription with this id."""
        if subscription_id not in self._subscriptions:
            raise LookupError(f"no subscription with id {subscription_id!r}")
        await self._remote_remove_subscription(subscription_id)
        del self._subscriptions[subscription_id]
        self._recipients_cache.clear()

    def recipients(self, topic_id: TopicId) -> tuple[AgentId, ...]:
        """The agents subscribed to ``topic_id`` (each once, in order)."""
        cached = self._recipients_cache.get(topic_id)
        if cached is None:
            found: dict[AgentId, None] = {}
            for subscription in self._subscriptions.values():
                if subscription.is_match(topic_id):
                    found[subscription.map_to_agent(topic_id)] = None
            cached = tuple(found)
            if len(self._recipients_cache) >= _CACHE_LIMIT:
                self._recipients_cache.clear()
            self._recipients_cache[topic_id] = cached
        return cached

    def add_message_serializer(
        self,
        serializers: (
            SerializerTable | Iterable[MessageSerializer[Any]] | MessageSerializer[Any]
        ),
    ) -> None:
        """Register serializers (e.g. a generated module's ``SERIALIZERS``)."""
        self.serializers.add(serializers)

    # -- delivery ----------------------------------------------------------

    @staticmethod
    def resolve_topic(message: Any, topic_id: TopicId | None) -> TopicId:
        """``topic_id``, or the message type's default topic."""
        return topic_id if topic_id is not None else default_topic_for(message)

    def new_message_id(self) -> str:
        """A globally unique message or request id.

        A random per-runtime prefix plus a counter: unique across processes
        like a uuid4, at a fraction of its cost per message.
        """
        return f"{self._id_prefix}{next(self._id_counter)}"

    def _queue_event(
        self,
        message: Any,
        topic_id: TopicId,
        sender: AgentId | None,
        message_id: str,
        full: list[tuple[Mailbox, Envelope]] | None = None,
    ) -> int:
        """Queue a published message for every local subscriber but the sender.

        Never waits: envelopes for full mailboxes go to ``full`` for the
        caller to wait on, or without ``full`` are queued over capacity
        (intake from the network, bounded by the runtime's backlog).
        """
        if not self._running:
            self._require_running()
        queued = 0
        recipients = self._recipients_cache.get(topic_id)
        if recipients is None:
            recipients = self.recipients(topic_id)
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
            mailbox = mailboxes.get(recipient)
            if mailbox is None:
                mailbox = self._new_mailbox(recipient)
            self._outstanding += 1  # _begin_work, inlined
            if self._outstanding == 1 and self._idle is not None:
                self._idle.clear()
            if not mailbox.offer(envelope):
                if full is None:
                    mailbox.put_nowait(envelope)
                else:
                    full.append((mailbox, envelope))
            queued += 1
        if not queued and self._first_time(topic_id.type):
            logger.info(
                "no local subscriber for topic type %s (message %s); logged once "
                "per topic type",
                clip(topic_id.type),
                clip(message_id),
            )
        return queued

    async def _dispatch_request(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        message_id: str,
    ) -> asyncio.Future[Any]:
        """Queue an RPC for a local agent; the future gets the handler's result.

        Waits while the recipient's mailbox is full, unless the recipient is
        the sender (it could not drain its mailbox while it waits). The
        future's exception is the handler's own exception.
        """
        reply, mailbox, envelope = self._queue_request(
            message, recipient, sender, message_id, wait=recipient != sender
        )
        if mailbox is not None:
            await mailbox.put(envelope)
        return reply

    def _queue_request(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        message_id: str,
        *,
        wait: bool = False,
    ) -> tuple[asyncio.Future[Any], Mailbox | None, Envelope]:
        """Queue an RPC for a local agent without waiting.

        Returns the reply future, and with ``wait``, the full mailbox the
        caller must :meth:`~Mailbox.put` the envelope into (else ``None``:
        queued, over capacity if need be).
        """
        self._require_running()
        if recipient.type not in self._factories:
            raise UndeliverableError(
                f"no agent type {recipient.type!r} is registered "
                f"(known: {', '.join(sorted(self._factories)) or 'none'})"
            )
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        envelope: Envelope = (
            message,
            MessageContext(sender, None, True, message_id),
            reply,
        )
        mailbox = self._mailbox(recipient)
        self._begin_work()
        if mailbox.offer(envelope):
            return reply, None, envelope
        if wait:
            return reply, mailbox, envelope
        mailbox.put_nowait(envelope)
        return reply, None, envelope

    def _eager_caller(self) -> asyncio.Task[Any] | None:
        """The caller's task, if it may run a delivery itself; else ``None``.

        ``None`` beyond :data:`EAGER_DEPTH_LIMIT` nested deliveries.
        """
        if self._eager_depth >= EAGER_DEPTH_LIMIT:
            return None
        return asyncio.current_task(self._loop)

    async def _yield_turn(self) -> None:
        """Let other tasks run: see :data:`YIELD_EVERY`."""
        self._turn_calls = 0
        await asyncio.sleep(0)

    def _run_eagerly(
        self,
        caller: asyncio.Task[Any],
        mailbox: Mailbox,
        agent_id: AgentId,
        envelope: Envelope,
    ) -> None:
        """Deliver ``envelope`` now, in the caller's task, up to its first await.

        The mailbox must be :attr:`~Mailbox.ready` and reserved, the message
        counted (:meth:`_begin_work`). The handler runs as the agent's own
        task would run it: as the current task (``asyncio.current_task()``,
        ``asyncio.timeout``, task groups) and in its context; the caller's
        cancellation cannot reach it. Whatever is left after its first await
        goes to the agent's task (:meth:`Mailbox.hand_off`). Saves the two
        event-loop turns of a queued delivery (to the agent's task and back).
        """
        task = mailbox.task
        assert task is not None
        loop = caller.get_loop()
        message, ctx, _ = envelope
        agent = self._agents.get(agent_id)
        handler = None
        if agent is not None and type(agent).on_message is _BASE_ON_MESSAGE:
            handler = agent._dispatch.get(type(message))
        self._eager_depth += 1
        _leave_task(loop, caller)
        _enter_task(loop, task)
        try:
            if handler is None:
                # Agent creation, unknown types, own on_message: the general path.
                call: Coroutine[Any, Any, Any] = self._deliver(agent_id, envelope)
                awaited = mailbox.context.run(call.send, None)
            else:
                method = getattr(agent, handler.method)
                call, awaited = mailbox.context.run(_start, method, message, ctx)
        except StopIteration as stop:
            if handler is not None:
                self._settle(agent_id, envelope, handler, stop.value)
            return
        except asyncio.CancelledError:
            if handler is None:
                raise
            self._handler_cancelled(agent_id, envelope)
            self._message_done()
            return
        except Exception as error:
            if handler is None:
                raise
            self._handler_failed(agent_id, envelope, error)
            self._message_done()
            return
        finally:
            _leave_task(loop, task)
            _enter_task(loop, caller)
            self._eager_depth -= 1
            mailbox.reserved = False
        if handler is not None:
            # The agent's task settles it through _deliver, started here up to
            # where it waits for what the handler awaits (no handler code runs).
            call = self._deliver(agent_id, envelope, (handler, call, awaited))
            awaited = call.send(None)
        mailbox.hand_off(call, awaited)

    async def _await_reply(
        self,
        reply: asyncio.Future[Any],
        recipient: AgentId,
        timeout: float | None,
    ) -> Any:
        """Wait for an RPC reply, turning failures into agentgen errors."""
        limit = self.rpc_timeout if timeout is None else timeout
        # Not asyncio.wait_for, which costs an extra future and event-loop turn
        # per call, nor a call_later handle each: see deadlines.py.
        expiry = _ReplyExpiry(reply, recipient, limit)
        self._deadlines.add(reply, limit, expiry)
        try:
            return await reply
        except Exception as error:
            if error is expiry.error:
                raise
            return self._reply_outcome(reply)
        finally:
            self._deadlines.release()

    @staticmethod
    def _reply_outcome(reply: asyncio.Future[Any]) -> Any:
        """A finished RPC's result; a handler's exception as :class:`RemoteError`."""
        try:
            return reply.result()
        except RemoteError:
            raise
        except Exception as error:
            raise RemoteError.from_exception(error) from error

    def _mailbox(self, agent_id: AgentId) -> Mailbox:
        """The mailbox of ``agent_id``, made on its first message.

        Not ``get(...) or new``: an empty mailbox is falsy (it has a length),
        and replacing it would let a second task run the same agent's
        handlers concurrently.
        """
        mailbox = self._mailboxes.get(agent_id)
        return mailbox if mailbox is not None else self._new_mailbox(agent_id)

    def _new_mailbox(self, agent_id: AgentId) -> Mailbox:
        """A new mailbox for ``agent_id``; the agent is made on its first message."""
        mailbox = self._mailboxes[agent_id] = Mailbox(
            functools.partial(self._deliver, agent_id),
            self.mailbox_capacity,
            self._backlog,
        )
        return mailbox

    async def _deliver(
        self,
        agent_id: AgentId,
        envelope: Envelope,
        started: _Started | None = None,
    ) -> None:
        """Run the agent's handler for ``envelope``; settle its outcome.

        With ``started``, :meth:`_run_eagerly` began the handler's call: it
        is resumed where it awaits.
        """
        message, ctx, reply = envelope
        try:
            if started is not None:
                handler: Handler | None = started[0]
                result = await resume(started[1], started[2])
            else:
                agent = self._agents.get(agent_id)
                if agent is None:
                    agent = await self.get_agent(agent_id)
                handler = agent._dispatch.get(type(message))
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
        except asyncio.CancelledError:
            if not self._running:
                # The mailbox is closing: the runtime stops.
                self._fail_envelope(envelope, "the runtime stopped")
                self._message_done()
                raise
            self._handler_cancelled(agent_id, envelope)
        except Exception as error:
            self._handler_failed(agent_id, envelope, error)
        else:
            if reply is not None and not reply.done():
                reply.set_result(result)
        self._outstanding -= 1  # _message_done, inlined
        if self._outstanding == 0 and self._idle is not None:
            self._idle.set()

    def _settle(
        self, agent_id: AgentId, envelope: Envelope, handler: Handler, result: Any
    ) -> None:
        """Settle a delivery whose handler returned ``result`` (checked for RPCs)."""
        _, ctx, reply = envelope
        if ctx.is_rpc:
            try:
                expect_reply(result, handler.response, method=handler.method)
            except UnexpectedReplyError as error:
                self._handler_failed(agent_id, envelope, error)
                self._message_done()
                return
        if reply is not None and not reply.done():
            reply.set_result(result)
        self._message_done()

    def _handler_cancelled(self, agent_id: AgentId, envelope: Envelope) -> None:
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
        self._handler_failed(agent_id, envelope, cancelled, cancelled=True)

    def _handler_failed(
        self,
        agent_id: AgentId,
        envelope: Envelope,
        error: Exception,
        *,
        cancelled: bool = False,
    ) -> None:
        """Log a failed handler (or agent factory); tell an RPC's caller.

        The log names the agent and the message id; a failed RPC is a
        warning (its caller gets the error too), a failed event an error.
        """
        _, ctx, reply = envelope
        if cancelled:
            failure = "was cancelled handling"
        elif agent_id not in self._agents:
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

    def _fail_envelope(self, envelope: Envelope, reason: str) -> None:
        _, ctx, reply = envelope
        if reply is not None and not reply.done():
            reply.set_exception(UndeliverableError(f"not handled: {reason}"))
        elif reply is None:
            logger.warning(
                "message %s to a stopped agent was not handled: %s",
                ctx.message_id,
                reason,
            )

    def _begin_work(self) -> None:
        """Count one more message queued or being handled (not idle)."""
        self._outstanding += 1
        if self._outstanding == 1 and self._idle is not None:
            self._idle.clear()

    def _message_done(self) -> None:
        self._outstanding -= 1
        if self._outstanding == 0 and self._idle is not None:
            self._idle.set()

    def _warn_foreign_type(self, recipient: AgentId, topic_id: TopicId) -> None:
        key = f"{recipient.type}\0{topic_id.type}"
        if self._first_time(key):
            logger.warning(
                "a subscription maps topic %s to agent type %r, which is not "
                "registered in this runtime; not delivered here",
                topic_id,
                recipient.type,
            )

    def _first_time(self, key: str) -> bool:
        """Whether ``key`` is logged for the first time (bounded memory)."""
        if key in self._unrouted_topics:
            return False
        if len(self._unrouted_topics) >= _CACHE_LIMIT:
            self._unrouted_topics.clear()
        self._unrouted_topics.add(key)
        return True

    def _require_running(self) -> None:
        if not self._running:
            raise RuntimeError(
                f"{type(self).__name__} is not running: await runtime.start() "
                "or use 'async with runtime:'"
            )

    # -- agents and state --------------------------------------------------

    async def get_agent(self, agent_id: AgentId) -> Agent:
        """The agent with this id, created by its type's factory if needed."""
        agent = self._agents.get(agent_id)
        if agent is not None:
            return agent
        pending = self._creating.get(agent_id)
        if pending is not None:
            return await asyncio.shield(pending)
        factory = self._factories.get(agent_id.type)
        if factory is None:
            raise UndeliverableError(f"no agent type {agent_id.type!r} is registered")
        future: asyncio.Future[Agent] = asyncio.get_running_loop().create_future()
        self._creating[agent_id] = future
        try:
            made = factory()
            agent = await made if isinstance(made, Awaitable) else made
            if not isinstance(agent, Agent):
                raise TypeError(
                    f"the factory of agent type {agent_id.type!r} returned "
                    f"{type(agent).__name__}, not an Agent"
                )
            agent.bind(self, agent_id)  # type: ignore[arg-type]
            self._agents[agent_id] = agent
            future.set_result(agent)
            return agent
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._creating[agent_id]

    async def agent_save_state(self, agent_id: AgentId) -> Mapping[str, Any]:
        """One agent's state."""
        agent = await self.get_agent(agent_id)
        return dict(await agent.save_state())

    async def agent_load_state(
        self, agent_id: AgentId, state: Mapping[str, Any]
    ) -> None:
        """Restore one agent's state (creating the agent if needed)."""
        agent = await self.get_agent(agent_id)
        await agent.load_state(state)

    async def save_state(self) -> Mapping[str, Any]:
        """The state of every agent created so far, keyed by ``"type/key"``."""
        return {
            str(agent_id): dict(await agent.save_state())
            for agent_id, agent in list(self._agents.items())
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state produced by :meth:`save_state`."""
        agent_ids = [AgentId.from_str(key) for key in state]
        unknown = sorted({a.type for a in agent_ids if a.type not in self._factories})
        if unknown:
            raise ValueError(
                "state names agent types not registered here: " + ", ".join(unknown)
            )
        for agent_id in agent_ids:
            await self.agent_load_state(agent_id, state[str(agent_id)])


def _start(
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


class _ReplyExpiry:
    """Fails an RPC's reply with :class:`RpcTimeoutError` (and keeps the error).

    The caller compares the error it gets with :attr:`error`, so that a
    handler's own ``RpcTimeoutError`` (from a nested call) stays a
    :class:`RemoteError`.
    """

    __slots__ = ("error", "limit", "recipient", "reply")

    def __init__(
        self, reply: asyncio.Future[Any], recipient: AgentId, limit: float
    ) -> None:
        self.reply = reply
        self.recipient = recipient
        self.limit = limit
        self.error: RpcTimeoutError | None = None

    def __call__(self) -> None:
        if not self.reply.done():
            self.error = RpcTimeoutError(
                f"no reply from {self.recipient} within {self.limit:g} s"
            )
            self.reply.set_exception(self.error)
