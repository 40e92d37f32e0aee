"""Which client gets an event or an RPC when several serve one agent type.

The host-wide :class:`TypeSharing` mode decides (README, "For AutoGen users"):

* ``exclusive``: one client per agent type (AutoGen Python's host);
* ``by-key``: several clients per type; each (type, key) is served by exactly
  one of them, chosen by rendezvous hashing (:mod:`agentgen.runtime.placement`);
  events and RPCs for that key go only there;
* ``fan-out``: the .NET gateway's semantics: an event goes to every client
  serving a subscribed type, an RPC to one client, sticky per (type, key)
  while that client lives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from ...placement import rendezvous_choice
from ...subscription_table import BoundedCache

__all__ = ["EventTarget", "Placement", "TypeSharing"]

EventTarget = tuple[str, tuple[str, ...] | None]
"""A client to send an event to, and the agent types it may deliver it to
(``None``: every type it serves)."""


class TypeSharing(StrEnum):
    """How a host shares one agent type among several clients."""

    EXCLUSIVE = "exclusive"
    BY_KEY = "by-key"
    FAN_OUT = "fan-out"

    @classmethod
    def parse(cls, value: TypeSharing | str) -> TypeSharing:
        """``value`` as a mode; ``ValueError`` naming the modes otherwise."""
        try:
            return cls(value)
        except ValueError:
            modes = ", ".join(mode.value for mode in cls)
            raise ValueError(
                f"unknown type sharing mode {value!r}: use one of {modes}"
            ) from None


class Placement:
    """Chooses clients for events and RPCs, from the live ``serving`` table.

    ``serving`` maps each agent type to the clients serving it, in the order
    they registered. Call :meth:`forget` whenever it changes.
    """

    def __init__(self, mode: TypeSharing, serving: Mapping[str, Sequence[str]]) -> None:
        self.mode = mode
        self._serving = serving
        self._by_key = BoundedCache[tuple[str, str], tuple[EventTarget, ...]]()
        self._sticky = BoundedCache[tuple[str, str], str](100_000)

    def forget(self) -> None:
        """The serving table changed: cached choices are dropped.

        Fan-out's sticky choices stay while their clients serve the type.
        """
        self._by_key.clear()

    def type_clients(self, agent_types: Sequence[str]) -> tuple[str, ...]:
        """For ``exclusive`` and ``fan-out``: the clients an event for these
        subscribed types goes to (the first server of each, or all of them)."""
        clients: dict[str, None] = {}
        fan_out = self.mode is TypeSharing.FAN_OUT
        for agent_type in agent_types:
            servers = self._serving.get(agent_type)
            if not servers:
                continue
            if fan_out:
                clients.update(dict.fromkeys(servers))
            else:
                clients[servers[0]] = None
        return tuple(clients)

    def keyed_targets(
        self, topic_type: str, agent_types: Sequence[str], key: str
    ) -> tuple[EventTarget, ...]:
        """For ``by-key``: where an event for ``key`` goes (cached).

        Each subscribed type's key goes to one client. A client that also
        serves a subscribed type whose key went elsewhere gets the event with
        the types it may deliver to, so no (type, key) gets it twice.
        """
        cached = self._by_key.get((topic_type, key))
        if cached is not None:
            return cached
        chosen: dict[str, list[str]] = {}
        for agent_type in agent_types:
            servers = self._serving.get(agent_type)
            if servers:
                chosen.setdefault(rendezvous_choice(key, servers), []).append(
                    agent_type
                )
        targets: list[EventTarget] = []
        for client, types in chosen.items():
            also_serves = any(
                client in self._serving.get(other, ())
                for other in agent_types
                if other not in types
            )
            targets.append((client, tuple(types) if also_serves else None))
        return self._by_key.keep((topic_type, key), tuple(targets))

    def rpc_client(self, agent_type: str, key: str) -> str | None:
        """The client an RPC to ``agent_type/key`` goes to (``None``: nobody)."""
        servers = self._serving.get(agent_type)
        if not servers:
            return None
        mode = self.mode
        if mode is TypeSharing.EXCLUSIVE:
            return servers[0]
        if mode is TypeSharing.BY_KEY:
            return rendezvous_choice(key, servers)
        sticky = self._sticky.get((agent_type, key))
        if sticky is not None and sticky in servers:
            return sticky
        return self._sticky.keep((agent_type, key), rendezvous_choice(key, servers))
