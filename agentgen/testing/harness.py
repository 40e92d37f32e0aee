"""Unit tests of one agent's handlers, without a runtime.

:class:`HandlerHarness` binds an agent to a
:class:`~agentgen.testing.recording.RecordingRuntime` and hands it messages
with a ready :class:`~agentgen.runtime.MessageContext`, as a runtime would;
the test then looks at the reply and at what the handler published and sent.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from agentgen.runtime import Agent, AgentId, MessageContext, TopicId
from agentgen.runtime.topics import default_topic_for

from .deadlines import DEFAULT_TIMEOUT, deadline
from .deliveries import message_type_name
from .recording import Published, RecordingRuntime, Responder, Sent

__all__ = ["HandlerHarness"]

A = TypeVar("A", bound=Agent)


class HandlerHarness(Generic[A]):
    """Runs the handlers of one agent directly; records what they publish and send.

    ``await harness.call(request)`` delivers an RPC and returns the reply
    (checked against the contract); ``await harness.deliver(event)`` a
    published message. ``published`` and ``sent`` list what the handlers
    published and sent; sends are answered by :meth:`respond` replies or
    ``responder``, else fail with ``UnexpectedSendError``. ``agent_id``
    defaults to ``AgentId(agent.AGENT_TYPE, "default")``.
    """

    def __init__(
        self,
        agent: A,
        agent_id: AgentId | None = None,
        *,
        responder: Responder | None = None,
    ) -> None:
        self.agent = agent
        """The agent under test."""
        self.agent_id = agent_id or AgentId(agent.AGENT_TYPE or type(agent).__name__)
        """Its id (what ``agent.id`` returns)."""
        self.runtime = RecordingRuntime(responder=responder)
        """The runtime it is bound to (``agent.runtime``)."""
        self.runtime.add_agent(agent, self.agent_id)
        self._ids = 0

    @property
    def published(self) -> list[Published]:
        """What the handlers published, in order."""
        return self.runtime.published

    @property
    def sent(self) -> list[Sent]:
        """What the handlers sent (RPCs), in order."""
        return self.runtime.sent

    def respond(self, request_type: type[Any], reply: Any) -> None:
        """Answer the agent's sends of ``request_type`` with ``reply`` (or raise it)."""
        self.runtime.respond(request_type, reply)

    def context(
        self,
        *,
        sender: AgentId | None = None,
        topic_id: TopicId | None = None,
        is_rpc: bool = False,
        message_id: str | None = None,
    ) -> MessageContext:
        """A context as a runtime makes one (``message_id``: ``"test-1"``, ...)."""
        if message_id is None:
            self._ids += 1
            message_id = f"test-{self._ids}"
        return MessageContext(sender, topic_id, is_rpc, message_id)

    async def call(
        self,
        message: Any,
        *,
        sender: AgentId | None = None,
        message_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Any:
        """Deliver ``message`` as an RPC; return the handler's reply.

        Raises what the handler raises; ``UnexpectedReplyError`` for a reply
        of the wrong type; ``AssertionError`` after ``timeout`` seconds.
        """
        ctx = self.context(sender=sender, is_rpc=True, message_id=message_id)
        async with deadline(timeout, lambda: self._unfinished(message, timeout)):
            return await self.agent.on_message(message, ctx)

    async def deliver(
        self,
        message: Any,
        topic_id: TopicId | None = None,
        *,
        sender: AgentId | None = None,
        message_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Deliver ``message`` as published to ``topic_id`` (default: its topic).

        Raises what the handler raises; ``AssertionError`` after ``timeout``
        seconds.
        """
        topic = topic_id if topic_id is not None else default_topic_for(message)
        ctx = self.context(sender=sender, topic_id=topic, message_id=message_id)
        async with deadline(timeout, lambda: self._unfinished(message, timeout)):
            await self.agent.on_message(message, ctx)

    def _unfinished(self, message: Any, timeout: float) -> str:
        return (
            f"{self.agent_id} did not finish handling "
            f"{message_type_name(message)} within {timeout:g} s"
        )
