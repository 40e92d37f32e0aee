"""The interface every agentgen runtime implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, TypeVar

from .ids import AgentId, TopicId
from .serialization import MessageSerializer, SerializerTable
from .subscriptions import Subscription

if TYPE_CHECKING:
    from .agent import Agent

__all__ = ["AgentFactory", "AgentRuntime"]

A = TypeVar("A", bound="Agent")

AgentFactory = Callable[[], "Agent | Awaitable[Agent]"]
"""Makes one agent instance; called once per agent id, on first use."""


class AgentRuntime(Protocol):
    """What agents and generated code need from a runtime."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def stop_when_idle(self) -> None: ...
    async def stop_when_signal(self, signals: Sequence[int] = ...) -> None: ...
    def request_stop(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def register_factory(self, agent_type: str, factory: AgentFactory) -> str: ...
    async def register_agent_class(
        self,
        cls: type[A],
        factory: Callable[[], A] | None = None,
        *,
        agent_type: str | None = None,
    ) -> str: ...

    async def add_subscription(self, subscription: Subscription) -> None: ...
    async def remove_subscription(self, subscription_id: str) -> None: ...
    @property
    def subscriptions(self) -> tuple[Subscription, ...]: ...

    def add_message_serializer(
        self,
        serializers: (
            SerializerTable | Iterable[MessageSerializer[Any]] | MessageSerializer[Any]
        ),
    ) -> None: ...

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId | None = None,
        *,
        sender: AgentId | None = None,
        message_id: str | None = None,
    ) -> None: ...

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        timeout: float | None = None,
        message_id: str | None = None,
    ) -> Any: ...

    async def save_state(self) -> Mapping[str, Any]: ...
    async def load_state(self, state: Mapping[str, Any]) -> None: ...
    async def agent_save_state(self, agent_id: AgentId) -> Mapping[str, Any]: ...
    async def agent_load_state(
        self, agent_id: AgentId, state: Mapping[str, Any]
    ) -> None: ...
