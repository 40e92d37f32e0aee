"""Subscription matching with its caches, shared by every runtime and the host.

One table holds the subscriptions of a runtime (or of every client of a
host) by id, refuses duplicates as AutoGen does (same id, or a subscription
equal to one already there: same kind, topic and agent type), and answers
the two questions routing asks, each cached until the table changes:

* :meth:`SubscriptionTable.recipients`: which agents receive a message
  published to a topic (AutoGen's semantics: the topic's source is the key);
* :meth:`SubscriptionTable.agent_types`: which agent types subscribe to a
  topic type (what a host or a NATS router needs to pick workers).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from typing import TypeVar

from .ids import AgentId, TopicId
from .subscriptions import Subscription

__all__ = [
    "CACHE_LIMIT",
    "BoundedCache",
    "DuplicateSubscriptionError",
    "SubscriptionTable",
]

CACHE_LIMIT = 10_000
"""Entries kept in each cache before it is cleared (direct-message topics are many)."""

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(dict[K, V]):
    """A dict of computed routes, cleared whole once it holds ``limit`` entries.

    Read it with ``get``; fill it with :meth:`keep`. Clearing whole (not
    evicting one by one) keeps a hit at the cost of one dict lookup.
    """

    __slots__ = ("limit",)

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        super().__init__()
        self.limit = limit

    def keep(self, key: K, value: V) -> V:
        """Store ``value`` under ``key`` (clearing first when full); return it."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


class DuplicateSubscriptionError(ValueError):
    """A subscription with the same id or the same rule is already there."""

    def __init__(self, existing: Subscription) -> None:
        super().__init__(f"subscription already exists: {existing!r}")
        self.existing = existing


class SubscriptionTable:
    """Subscriptions by id, with cached matching (see the module docstring).

    ``max_cached_type_length`` keeps huge topic types (possible on the wire)
    out of the per-topic-type cache. With ``unique_rules=False`` (a host whose
    clients share agent types) equal subscriptions of different subscribers
    may coexist; only ids must be unique.
    """

    __slots__ = (
        "_by_id",
        "_by_rule",
        "_max_key",
        "_recipients",
        "_types",
        "cached_recipients",
    )

    def __init__(
        self, max_cached_type_length: int = 1024, *, unique_rules: bool = True
    ) -> None:
        self._by_id: dict[str, Subscription] = {}
        self._by_rule: dict[Subscription, Subscription] | None = (
            {} if unique_rules else None
        )
        self._recipients = BoundedCache[TopicId, tuple[AgentId, ...]]()
        self.cached_recipients: Mapping[TopicId, tuple[AgentId, ...]] = self._recipients
        """What :meth:`recipients` has computed, for hot paths to read first
        (``get``: one dict lookup, no call; a miss is ``None``: call it)."""
        self._types = BoundedCache[str, tuple[str, ...]]()
        self._max_key = max_cached_type_length

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._by_id

    def __iter__(self) -> Iterator[Subscription]:
        return iter(self._by_id.values())

    def get(self, subscription_id: str) -> Subscription | None:
        """The subscription with this id, if any."""
        return self._by_id.get(subscription_id)

    def ids(self) -> tuple[str, ...]:
        """Every subscription id, in the order they were added."""
        return tuple(self._by_id)

    def duplicate_of(self, subscription: Subscription) -> Subscription | None:
        """The subscription ``subscription`` would duplicate, if any."""
        existing = self._by_id.get(subscription.id)
        if existing is None and self._by_rule is not None:
            existing = self._by_rule.get(subscription)
        return existing

    def add(self, subscription: Subscription) -> None:
        """Add ``subscription``; :class:`DuplicateSubscriptionError` if a duplicate."""
        existing = self.duplicate_of(subscription)
        if existing is not None:
            raise DuplicateSubscriptionError(existing)
        self._by_id[subscription.id] = subscription
        if self._by_rule is not None:
            self._by_rule[subscription] = subscription
        self.forget_matches()

    def remove(self, subscription_id: str) -> Subscription:
        """Remove and return the subscription with this id (``KeyError`` if none)."""
        subscription = self._by_id.pop(subscription_id)
        by_rule = self._by_rule
        if by_rule is not None and by_rule.get(subscription) is subscription:
            del by_rule[subscription]
        self.forget_matches()
        return subscription

    def forget_matches(self) -> None:
        """Clear the caches (done by every change of the table)."""
        self._recipients.clear()
        self._types.clear()

    def recipients(self, topic_id: TopicId) -> tuple[AgentId, ...]:
        """The agents subscribed to ``topic_id``, each once, in subscription order."""
        cached = self._recipients.get(topic_id)
        if cached is None:
            found: dict[AgentId, None] = {}
            for subscription in self._by_id.values():
                if subscription.is_match(topic_id):
                    found[subscription.map_to_agent(topic_id)] = None
            cached = self._recipients.keep(topic_id, tuple(found))
        return cached

    def agent_types(self, topic_type: str) -> tuple[str, ...]:
        """The agent types subscribed to ``topic_type``, each once, in order.

        Matches as for a topic of any source (wire subscriptions match on the
        type only). Raises ``ValueError`` for an invalid topic type.
        """
        cached = self._types.get(topic_type)
        if cached is None:
            topic = TopicId(topic_type)
            found: dict[str, None] = {}
            for subscription in self._by_id.values():
                if subscription.is_match(topic):
                    found[subscription.agent_type] = None
            cached = tuple(found)
            if len(topic_type) <= self._max_key:
                self._types.keep(topic_type, cached)
        return cached
