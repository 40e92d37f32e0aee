"""Subscriptions: which agents receive what is published to which topics.

Semantics follow autogen_core: a subscription matches a topic and maps it to
the agent that receives it, keyed by the topic's source.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from .ids import AgentId, TopicId, is_valid_agent_type
from .uuids import random_uuid

__all__ = [
    "DefaultSubscription",
    "Subscription",
    "TypePrefixSubscription",
    "TypeSubscription",
]


class Subscription(ABC):
    """Base of every subscription: an id, a match rule and an agent mapping."""

    __slots__ = ("_agent_type", "_id")

    def __init__(self, agent_type: str, id: str | None) -> None:
        if not is_valid_agent_type(agent_type):
            raise ValueError(f"invalid agent type {agent_type!r} in subscription")
        self._agent_type = agent_type
        self._id = id or random_uuid()

    @property
    def id(self) -> str:
        """The subscription's id (unique; chosen by the subscriber)."""
        return self._id

    @property
    def agent_type(self) -> str:
        """The agent type that receives matching messages."""
        return self._agent_type

    @abstractmethod
    def is_match(self, topic_id: TopicId) -> bool:
        """Whether messages published to ``topic_id`` reach this subscription."""

    def map_to_agent(self, topic_id: TopicId) -> AgentId:
        """The agent that receives a message published to ``topic_id``."""
        return AgentId(self._agent_type, topic_id.source)

    @abstractmethod
    def same_rule(self, other: Subscription) -> bool:
        """Whether ``other`` routes exactly as this one does (a duplicate)."""


class TypeSubscription(Subscription):
    """Matches topics whose type equals ``topic_type``."""

    __slots__ = ("_topic_type",)

    def __init__(self, topic_type: str, agent_type: str, id: str | None = None):
        super().__init__(agent_type, id)
        self._topic_type = topic_type

    @property
    def topic_type(self) -> str:
        """The topic type this subscription matches."""
        return self._topic_type

    def is_match(self, topic_id: TopicId) -> bool:
        return topic_id.type == self._topic_type

    def same_rule(self, other: Subscription) -> bool:
        return (
            isinstance(other, TypeSubscription)
            and other.topic_type == self._topic_type
            and other.agent_type == self.agent_type
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TypeSubscription) and (
            other.id == self.id or self.same_rule(other)
        )

    def __hash__(self) -> int:
        return hash((TypeSubscription, self._topic_type, self.agent_type))

    def __repr__(self) -> str:
        return (
            f"TypeSubscription(topic_type={self._topic_type!r}, "
            f"agent_type={self.agent_type!r}, id={self.id!r})"
        )


class TypePrefixSubscription(Subscription):
    """Matches topics whose type starts with ``topic_type_prefix``."""

    __slots__ = ("_prefix",)

    def __init__(
        self, topic_type_prefix: str, agent_type: str, id: str | None = None
    ) -> None:
        if not topic_type_prefix:
            raise ValueError("a topic type prefix must not be empty")
        super().__init__(agent_type, id)
        self._prefix = topic_type_prefix

    @property
    def topic_type_prefix(self) -> str:
        """The topic type prefix this subscription matches."""
        return self._prefix

    def is_match(self, topic_id: TopicId) -> bool:
        return topic_id.type.startswith(self._prefix)

    def same_rule(self, other: Subscription) -> bool:
        return (
            isinstance(other, TypePrefixSubscription)
            and other.topic_type_prefix == self._prefix
            and other.agent_type == self.agent_type
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TypePrefixSubscription) and (
            other.id == self.id or self.same_rule(other)
        )

    def __hash__(self) -> int:
        return hash((TypePrefixSubscription, self._prefix, self.agent_type))

    def __repr__(self) -> str:
        return (
            f"TypePrefixSubscription(topic_type_prefix={self._prefix!r}, "
            f"agent_type={self.agent_type!r}, id={self.id!r})"
        )


class DefaultSubscription(TypeSubscription):
    """A :class:`TypeSubscription` to the topic type ``"default"``."""

    __slots__ = ()

    def __init__(
        self,
        topic_type: str = "default",
        agent_type: str = "",
        id: str | None = None,
    ) -> None:
        if not agent_type:
            raise ValueError("DefaultSubscription needs the agent_type it maps to")
        super().__init__(topic_type, agent_type, id)
