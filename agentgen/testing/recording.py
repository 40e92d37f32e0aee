"""A stand-in runtime for unit tests of handlers: it records what agents send.

:class:`RecordingRuntime` implements :class:`~agentgen.runtime.AgentRuntime`
without delivering anything. What agents publish and send is recorded
(:class:`Published`, :class:`Sent`); a send is answered by a canned reply
(:meth:`RecordingRuntime.respond`) or a responder callable, and fails with
:class:`UnexpectedSendError` when the test gave neither.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from agentgen.runtime import (
    Agent,
    AgentFactory,
    AgentId,
    MessageSerializer,
    SerializerTable,
    Subscription,
    TopicId,
)
from agentgen.runtime.topics import default_topic_for
from agentgen.runtime.uuids import IdSequence

from .deliveries import message_type_name

__all__ = ["Published", "RecordingRuntime", "Responder", "Sent", "UnexpectedSendError"]

A = TypeVar("A", bound=Agent)

Responder = Callable[[Any, AgentId], Any]
"""Answers a send: called with the message and the recipient, returns the
reply (or an awaitable of it, or an exception to raise)."""


@dataclass(frozen=True)
class Published:
    """A ``publish_message`` call; ``topic_id`` is resolved (default topic)."""

    message: Any
    topic_id: TopicId
    sender: AgentId | None
    message_id: str


@dataclass(frozen=True)
class Sent:
    """A ``send_message`` call (an RPC)."""

    message: Any
    recipient: AgentId
    sender: AgentId | None
    timeout: float | None
    message_id: str


class UnexpectedSendError(AssertionError):
    """An agent sent a message the test gave no reply for."""


class RecordingRuntime:
    """An :class:`~agentgen.runtime.AgentRuntime` that records instead of delivering.

    ``published`` and ``sent`` list the calls in order. Sends get the reply
    set with :meth:`respond` for their message type, else ``responder``'s.
    A reply that is an exception is raised to the sender. Agents added with
    :meth:`add_agent` are bound to it and take part in its state calls;
    registering agent types is refused (use a real runtime for that).
    """

    def __init__(self, *, responder: Responder | None = None) -> None:
        self.published: list[Published] = []
        """Every publish, in order."""
        self.sent: list[Sent] = []
        """Every send, in order (answered or not)."""
        self.responder = responder
        """Answers sends that no :meth:`respond` reply covers."""
        self.stop_requested = False
        """Whether ``request_stop`` was called."""
        self.agents: dict[AgentId, Agent] = {}
        """The agents added with :meth:`add_agent`."""
        self._replies: dict[type[Any], Any] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._ids = IdSequence(random_bytes=4)

    def add_agent(self, agent: A, agent_id: AgentId) -> A:
        """Bind ``agent`` to this runtime as ``agent_id`` (as a runtime would)."""
        agent.bind(self, agent_id)
        self.agents[agent_id] = agent
        return agent

    def respond(self, request_type: type[Any], reply: Any) -> None:
        """Answer every send of a ``request_type`` message with ``reply``.

        ``reply`` may be an exception (an instance): the sender gets it raised,
        as a real runtime raises ``RemoteError`` or ``RpcTimeoutError``.
        """
        self._replies[request_type] = reply

    # -- messages ------------------------------------------------------------

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId | None = None,
        *,
        sender: AgentId | None = None,
        message_id: str | None = None,
    ) -> None:
        """Record the publish (no topic: the message's default, as runtimes do)."""
        topic = topic_id if topic_id is not None else default_topic_for(message)
        self.published.append(
            Published(message, topic, sender, message_id or self._ids.next())
        )

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        timeout: float | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Record the send and return (or raise) the reply the test set up."""
        self.sent.append(
            Sent(message, recipient, sender, timeout, message_id or self._ids.next())
        )
        if type(message) in self._replies:
            reply = self._replies[type(message)]
        elif self.responder is not None:
            reply = self.responder(message, recipient)
            if inspect.isawaitable(reply):
                reply = await reply
        else:
            name = message_type_name(message)
            raise UnexpectedSendError(
                f"{sender or 'the test'} sent {name} to {recipient}, and the test "
                f"set no reply for it: respond({name.rpartition('.')[2]}, reply) "
                "or give a responder"
            )
        if isinstance(reply, BaseException):
            raise reply
        return reply

    # -- subscriptions, serializers, registration ----------------------------

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        """Subscriptions added by the agents."""
        return tuple(self._subscriptions.values())

    async def add_subscription(self, subscription: Subscription) -> None:
        """Record a subscription; a duplicate id is refused, as runtimes do."""
        if subscription.id in self._subscriptions:
            raise ValueError(f"subscription already exists: {subscription!r}")
        self._subscriptions[subscription.id] = subscription

    async def remove_subscription(self, subscription_id: str) -> None:
        """Forget a subscription added before."""
        if self._subscriptions.pop(subscription_id, None) is None:
            raise LookupError(f"no subscription with id {subscription_id!r}")

    def add_message_serializer(
        self,
        serializers: (
            SerializerTable | Iterable[MessageSerializer[Any]] | MessageSerializer[Any]
        ),
    ) -> None:
        """Accepted and ignored: nothing is serialized here."""

    async def register_factory(self, agent_type: str, factory: AgentFactory) -> str:
        """Refused: this runtime runs no agent types."""
        raise self._no_registration(agent_type)

    async def register_agent_class(
        self,
        cls: type[A],
        factory: Callable[[], A] | None = None,
        *,
        agent_type: str | None = None,
    ) -> str:
        """Refused: this runtime runs no agent types."""
        raise self._no_registration(agent_type or cls.AGENT_TYPE)

    @staticmethod
    def _no_registration(agent_type: str) -> RuntimeError:
        return RuntimeError(
            f"RecordingRuntime cannot register agent type {agent_type!r}: it runs "
            "the handlers of one agent; test several agents on a real runtime "
            "(the agentgen_runtime fixture)"
        )

    # -- lifecycle: nothing runs, so nothing to start or stop ----------------

    async def start(self) -> None:
        """Nothing to start."""

    async def stop(self) -> None:
        """Nothing to stop."""

    async def stop_when_idle(self) -> None:
        """Returns at once: nothing is ever queued."""

    async def stop_when_signal(self, signals: Sequence[int] = ()) -> None:
        """Returns at once (a test waits for no signal)."""

    def request_stop(self) -> None:
        """Record the request (``stop_requested``)."""
        self.stop_requested = True

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    # -- state -----------------------------------------------------------------

    def _agent(self, agent_id: AgentId) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise LookupError(f"no agent {agent_id} in this RecordingRuntime")
        return agent

    async def agent_save_state(self, agent_id: AgentId) -> Mapping[str, Any]:
        """The state of an added agent."""
        return await self._agent(agent_id).save_state()

    async def agent_load_state(
        self, agent_id: AgentId, state: Mapping[str, Any]
    ) -> None:
        """Load the state of an added agent."""
        await self._agent(agent_id).load_state(state)

    async def save_state(self) -> Mapping[str, Any]:
        """Every added agent's state, keyed by ``"type/key"`` as runtimes do."""
        return {str(i): await agent.save_state() for i, agent in self.agents.items()}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state produced by :meth:`save_state`."""
        for key, agent_state in state.items():
            await self.agent_load_state(AgentId.from_str(key), agent_state)
