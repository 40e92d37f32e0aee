"""Agents' state moving between workers through the KV bucket.

A worker that stops cleanly first marks the state of each of its agents as
*pending* (``s.<type>.<key>``), then leaves the routing state (so the keys
move), lets what it had accepted finish, and writes each agent's final
state. The new owner of a key, making the agent on its first message, finds
the entry in its copy of the bucket, waits (at most ``handoff_timeout``) for
it to be final, loads it into the agent and deletes the entry. A crashed
worker hands nothing over: its agents restart from the last state saved with
``NatsWorkerRuntime.checkpoint`` (if any).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..agent import Agent
from ..ids import AgentId
from .subjects import Subjects

if TYPE_CHECKING:
    from nats.js.kv import KeyValue

    from .counters import NatsCounters

__all__ = ["Handoff", "StateBoard"]

logger = logging.getLogger("agentgen.runtime.nats")


class StateBoard:
    """The handed-over states in the bucket, as the watcher sees them."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        self._changed = asyncio.Event()

    def put(self, agent_type: str, key: str, value: bytes | None) -> None:
        """An entry was written (``None``: deleted or purged)."""
        where = (agent_type, key)
        document: dict[str, Any] | None = None
        if value:
            try:
                loaded = json.loads(value)
                document = loaded if isinstance(loaded, dict) else None
            except ValueError:
                document = None
            if document is None:
                logger.warning("ignored a malformed state entry for %s/%s", *where)
        if document is None:
            self.entries.pop(where, None)
        else:
            self.entries[where] = document
        self._changed.set()

    async def wait_final(
        self, agent_type: str, key: str, timeout: float
    ) -> dict[str, Any] | None:
        """The entry for ``agent_type/key`` once it is no longer pending.

        ``None`` if there is none, or if it is still pending after ``timeout``.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            document = self.entries.get((agent_type, key))
            if document is None or not document.get("pending"):
                return document
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return None


class Handoff:
    """Writes a leaving worker's states; restores them on the new owner."""

    def __init__(
        self,
        kv: KeyValue,
        board: StateBoard,
        worker_id: str,
        counters: NatsCounters,
        *,
        timeout: float,
    ) -> None:
        self._kv = kv
        self._board = board
        self._worker_id = worker_id
        self._counters = counters
        self.timeout = timeout

    async def restore(self, agent_id: AgentId, agent: Agent) -> None:
        """Load the state handed over for a new agent, if any (its creation hook)."""
        where = (agent_id.type, agent_id.key)
        if where not in self._board.entries:
            return
        document = await self._board.wait_final(*where, self.timeout)
        if document is None:
            if where in self._board.entries:
                self._counters.states_lost += 1
                logger.warning(
                    "the state of %s was still being handed over after %g s; the "
                    "agent starts without it",
                    agent_id,
                    self.timeout,
                )
            return
        if "state" in document:
            await agent.load_state(document["state"])
            self._counters.states_restored += 1
            logger.info(
                "%s took over the state of %s from worker %s",
                self._worker_id,
                agent_id,
                document.get("from", "?"),
            )
        await self._delete(agent_id)

    async def mark_pending(self, agent_ids: Iterable[AgentId]) -> None:
        """Tell future owners that these agents' states are coming."""
        marker = json.dumps({"pending": True, "from": self._worker_id}).encode()
        for agent_id in agent_ids:
            await self._kv.put(Subjects.state_key(agent_id.type, agent_id.key), marker)

    async def write(self, states: Mapping[AgentId, Mapping[str, Any]]) -> None:
        """Write final states (the end of a handoff, or a checkpoint)."""
        for agent_id, state in states.items():
            document = {"state": dict(state), "from": self._worker_id}
            await self._kv.put(
                Subjects.state_key(agent_id.type, agent_id.key),
                json.dumps(document).encode(),
            )
            self._counters.states_saved += 1

    async def _delete(self, agent_id: AgentId) -> None:
        try:
            await self._kv.delete(Subjects.state_key(agent_id.type, agent_id.key))
        except Exception as error:  # the entry stays; the next owner loads it again
            logger.warning(
                "could not delete the handed-over state of %s: %s", agent_id, error
            )
