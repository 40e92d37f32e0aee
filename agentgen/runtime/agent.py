"""The base classes generated agents and clients derive from."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar, overload

from google.protobuf import empty_pb2
from google.protobuf.message import Message

from .context import MessageContext
from .errors import UnexpectedReplyError, UnhandledMessageError
from .ids import AgentId, TopicId

if TYPE_CHECKING:
    from .interface import AgentRuntime

__all__ = ["Agent", "AgentClient", "Handler", "expect_reply"]

M = TypeVar("M", bound=Message)


class Handler(NamedTuple):
    """One message handler of an agent: one rpc of its service.

    ``response`` is ``None`` when the rpc returns ``google.protobuf.Empty``.
    (A named tuple, not a frozen dataclass: a tenth of the cost at import.)
    """

    method: str
    request: type[Message]
    response: type[Message] | None


def _describe(value: object) -> str:
    if isinstance(value, Message):
        return value.DESCRIPTOR.full_name
    return "None" if value is None else type(value).__name__


def expect_reply(reply: object, reply_type: type[M] | None, *, method: str) -> M | None:
    """Check an RPC reply against the type the contract declares."""
    if reply_type is None:
        if reply is None or isinstance(reply, empty_pb2.Empty):
            return None
    elif isinstance(reply, reply_type):
        return reply
    expected = "None" if reply_type is None else reply_type.DESCRIPTOR.full_name
    raise UnexpectedReplyError(
        f"{method} expected a reply of type {expected}, got {_describe(reply)}"
    )


class Agent(abc.ABC):  # noqa: B024 - generated subclasses add the abstract handlers
    """Base of every agent: identity, runtime access and handler dispatch.

    Generated ``<Service>Base`` classes set the class attributes below and
    declare one abstract handler method per rpc.
    """

    AGENT_TYPE: ClassVar[str] = ""
    """The agent type this class registers as by default."""
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ()
    """Topic types the agent subscribes to (one TypeSubscription each)."""
    PREFIX_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ()
    """Topic type prefixes the agent subscribes to."""
    HANDLERS: ClassVar[tuple[Handler, ...]] = ()
    """The agent's message handlers."""
    HANDLERS_BY_TYPE: ClassVar[Mapping[type[Message], Handler]] = {}
    """``HANDLERS`` by request message class (set for each subclass)."""

    _bound_id: AgentId | None = None
    _bound_runtime: AgentRuntime | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.HANDLERS_BY_TYPE = {handler.request: handler for handler in cls.HANDLERS}

    def bind(self, runtime: AgentRuntime, agent_id: AgentId) -> None:
        """Attach the agent to its runtime and id (done by the runtime)."""
        self._bound_runtime = runtime
        self._bound_id = agent_id

    @property
    def id(self) -> AgentId:
        """This agent's id."""
        if self._bound_id is None:
            raise RuntimeError(
                f"{type(self).__name__} has no id yet: agents get one when a "
                "runtime creates them (register the class, then publish or send)"
            )
        return self._bound_id

    @property
    def runtime(self) -> AgentRuntime:
        """The runtime this agent runs on."""
        if self._bound_runtime is None:
            raise RuntimeError(f"{type(self).__name__} is not bound to a runtime")
        return self._bound_runtime

    def handler_for(self, message: object) -> Handler | None:
        """The handler for ``message``'s type, if this agent has one."""
        return self.HANDLERS_BY_TYPE.get(type(message))  # type: ignore[arg-type]

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        """Run the handler for ``message``; the runtime calls this."""
        handler = self.HANDLERS_BY_TYPE.get(type(message))
        if handler is None:
            raise UnhandledMessageError(
                f"agent {self.id} ({type(self).__name__}) has no handler for "
                f"{_describe(message)}"
            )
        result = await getattr(self, handler.method)(message, ctx)
        if ctx.is_rpc:
            expect_reply(result, handler.response, method=handler.method)
        return result

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId | None = None,
        *,
        message_id: str | None = None,
    ) -> None:
        """Publish ``message`` with this agent as the sender."""
        await self.runtime.publish_message(
            message, topic_id, sender=self.id, message_id=message_id
        )

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send ``message`` to ``recipient`` as an RPC and return its reply."""
        return await self.runtime.send_message(
            message, recipient, sender=self.id, timeout=timeout
        )

    async def save_state(self) -> Mapping[str, Any]:
        """Return the agent's state as a JSON-compatible mapping."""
        return {}

    async def load_state(  # noqa: B027 - an optional hook, empty by default
        self, state: Mapping[str, Any]
    ) -> None:
        """Restore state produced by :meth:`save_state`."""

    async def close(self) -> None:  # noqa: B027 - an optional hook
        """Release resources; called once when the runtime stops."""


class AgentClient:
    """Base of every generated typed client: RPCs to one agent."""

    AGENT_TYPE: ClassVar[str] = ""
    """The agent type the client talks to by default."""

    def __init__(
        self,
        runtime: AgentRuntime,
        key: str = "default",
        *,
        sender: AgentId | None = None,
        agent_type: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.agent_id = AgentId(agent_type or self.AGENT_TYPE, key)
        self.sender = sender

    @overload
    async def _call(
        self, message: Message, reply_type: type[M], timeout: float | None
    ) -> M: ...

    @overload
    async def _call(
        self, message: Message, reply_type: None, timeout: float | None
    ) -> None: ...

    async def _call(
        self, message: Message, reply_type: type[M] | None, timeout: float | None
    ) -> M | None:
        reply = await self.runtime.send_message(
            message, self.agent_id, sender=self.sender, timeout=timeout
        )
        return expect_reply(
            reply, reply_type, method=f"{type(self).__name__} RPC to {self.agent_id}"
        )
