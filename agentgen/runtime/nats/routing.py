"""Every worker's view of who serves what: the routing state, as watched in KV.

Each live worker has one KV entry (``w.<worker id>``) listing the agent types
it serves and the subscriptions it added; :class:`RoutingView` keeps the
local copy every runtime routes with: the workers, the workers serving each
type, and one :class:`~agentgen.runtime.subscription_table.SubscriptionTable`
of every worker's subscriptions (the matching code the gRPC host uses, so
AutoGen's semantics hold: type, prefix and default subscriptions, the topic
source as the agent key). The owner of an agent key is chosen by rendezvous
hashing over the workers serving its type, so every runtime computes the
same owner from the same view.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from ..placement import rendezvous_choice
from ..subscription_table import BoundedCache, SubscriptionTable
from ..subscriptions import Subscription, TypePrefixSubscription, TypeSubscription

__all__ = ["RoutingView", "WorkerEntry", "decode_entry", "encode_entry"]

_ENTRY_VERSION = 1


@dataclass(frozen=True)
class WorkerEntry:
    """What one worker serves: its agent types and its subscriptions."""

    worker_id: str
    agent_types: tuple[str, ...]
    subscriptions: tuple[Subscription, ...]


def encode_entry(
    agent_types: Iterable[str], subscriptions: Iterable[Subscription]
) -> bytes:
    """The KV value of a worker's entry (JSON)."""
    subs = []
    for subscription in subscriptions:
        if isinstance(subscription, TypePrefixSubscription):
            subs.append(
                {
                    "id": subscription.id,
                    "prefix": subscription.topic_type_prefix,
                    "agent": subscription.agent_type,
                }
            )
        elif isinstance(subscription, TypeSubscription):
            subs.append(
                {
                    "id": subscription.id,
                    "topic": subscription.topic_type,
                    "agent": subscription.agent_type,
                }
            )
        else:
            raise TypeError(f"no NATS form for {subscription!r}")
    document = {"v": _ENTRY_VERSION, "types": sorted(agent_types), "subs": subs}
    return json.dumps(document, separators=(",", ":")).encode()


def decode_entry(worker_id: str, value: bytes) -> WorkerEntry:
    """A worker's entry from its KV value; ``ValueError`` if it is not one."""
    try:
        document = json.loads(value)
        types = tuple(str(t) for t in document["types"])
        subscriptions: list[Subscription] = []
        for sub in document["subs"]:
            # Ids are the subscriber's: unique within a worker, maybe not across.
            sub_id = f"{worker_id}/{sub['id']}"
            if "prefix" in sub:
                subscriptions.append(
                    TypePrefixSubscription(sub["prefix"], sub["agent"], sub_id)
                )
            else:
                subscriptions.append(
                    TypeSubscription(sub["topic"], sub["agent"], sub_id)
                )
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"malformed entry of worker {worker_id!r}: {error}") from None
    return WorkerEntry(worker_id, types, tuple(subscriptions))


class RoutingView:
    """The live workers and what they serve (see the module docstring).

    Changed only through :meth:`put` and :meth:`remove`; ``version`` grows
    with every change.
    """

    def __init__(self) -> None:
        self.workers: dict[str, WorkerEntry] = {}
        self.serving: dict[str, list[str]] = {}
        """The workers serving each agent type."""
        self.subscriptions = SubscriptionTable(unique_rules=False)
        """Every live worker's subscriptions."""
        self.version = 0
        self._owners = BoundedCache[tuple[str, str], str | None]()
        self._targets = BoundedCache[tuple[str, str], dict[str, tuple[str, ...]]]()
        self._changes = asyncio.Event()

    def put(self, entry: WorkerEntry) -> None:
        """A worker joined or changed what it serves."""
        if self.workers.get(entry.worker_id) == entry:
            return
        self._drop(entry.worker_id)
        self.workers[entry.worker_id] = entry
        for agent_type in entry.agent_types:
            self.serving.setdefault(agent_type, []).append(entry.worker_id)
        for subscription in entry.subscriptions:
            if subscription.id not in self.subscriptions:  # a malformed entry's repeats
                self.subscriptions.add(subscription)
        self._changed()

    def remove(self, worker_id: str) -> bool:
        """A worker left (or its lease ended); whether it was known."""
        if worker_id not in self.workers:
            return False
        self._drop(worker_id)
        self._changed()
        return True

    def _drop(self, worker_id: str) -> None:
        entry = self.workers.pop(worker_id, None)
        if entry is None:
            return
        for agent_type in entry.agent_types:
            servers = self.serving.get(agent_type)
            if servers is not None and worker_id in servers:
                servers.remove(worker_id)
                if not servers:
                    del self.serving[agent_type]
        for subscription in entry.subscriptions:
            if subscription.id in self.subscriptions:
                self.subscriptions.remove(subscription.id)

    def _changed(self) -> None:
        self.version += 1
        self._owners.clear()
        self._targets.clear()
        self._changes.set()

    async def wait_changed(self, timeout: float) -> None:
        """Return at the next change, or after ``timeout`` seconds."""
        self._changes.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changes.wait(), timeout)

    def owner(self, agent_type: str, key: str) -> str | None:
        """The worker serving ``agent_type/key`` (``None``: none serves the type)."""
        cache_key = (agent_type, key)
        try:
            return self._owners[cache_key]
        except KeyError:
            pass
        servers = self.serving.get(agent_type)
        owner = rendezvous_choice(key, servers) if servers else None
        return self._owners.keep(cache_key, owner)

    def event_targets(self, topic_type: str, source: str) -> dict[str, tuple[str, ...]]:
        """The workers an event goes to, with its agent types for each.

        ``ValueError`` for an invalid topic type. The dict is shared: read it only.
        """
        cache_key = (topic_type, source)
        try:
            return self._targets[cache_key]
        except KeyError:
            pass
        targets: dict[str, list[str]] = {}
        for agent_type in self.agent_types(topic_type):
            owner = self.owner(agent_type, source)
            if owner is not None:
                targets.setdefault(owner, []).append(agent_type)
        return self._targets.keep(
            cache_key, {owner: tuple(types) for owner, types in targets.items()}
        )

    def agent_types(self, topic_type: str) -> tuple[str, ...]:
        """The agent types subscribed to ``topic_type`` (``ValueError`` if invalid)."""
        return self.subscriptions.agent_types(topic_type)
