"""Agent and topic identifiers, validated as AutoGen validates them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentgen.autogen_names import (
    AGENT_TYPE_CHARS,
    TOPIC_TYPE_CHARS,
    is_valid_agent_type,
    is_valid_topic_type,
)

__all__ = ["AgentId", "TopicId", "is_valid_agent_type", "is_valid_topic_type"]


@dataclass(frozen=True, slots=True)
class AgentId:
    """One agent instance: its type and its key.

    Agents of one type are created on demand, one per key.
    """

    type: str
    key: str = "default"
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_valid_agent_type(self.type):
            raise ValueError(
                f"invalid agent type {self.type!r}: use {AGENT_TYPE_CHARS} only"
            )
        object.__setattr__(self, "_hash", hash((self.type, self.key)))

    def __hash__(self) -> int:
        # Computed once: ids are dict keys on every delivery.
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        # Not the cached hash: string hashes differ between processes.
        return (type(self), (self.type, self.key))

    def __str__(self) -> str:
        return f"{self.type}/{self.key}"

    @classmethod
    def from_str(cls, value: str) -> AgentId:
        """Parse ``"type/key"``."""
        agent_type, sep, key = value.partition("/")
        if not sep:
            raise ValueError(f"invalid agent id {value!r}: expected 'type/key'")
        return cls(agent_type, key)


@dataclass(frozen=True, slots=True)
class TopicId:
    """A topic: its type (what is published) and its source (the context)."""

    type: str
    source: str = "default"
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_valid_topic_type(self.type):
            raise ValueError(
                f"invalid topic type {self.type!r}: use {TOPIC_TYPE_CHARS} only"
            )
        object.__setattr__(self, "_hash", hash((self.type, self.source)))

    def __hash__(self) -> int:
        # Computed once: ids are dict keys on every publish and delivery.
        return self._hash

    def __reduce__(self) -> tuple[Any, ...]:
        # Not the cached hash: string hashes differ between processes.
        return (type(self), (self.type, self.source))

    def __str__(self) -> str:
        return f"{self.type}/{self.source}"
