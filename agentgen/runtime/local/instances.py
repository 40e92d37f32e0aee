"""The agent types of one process, the agents their factories made, their state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..agent import Agent
from ..errors import UndeliverableError
from ..ids import AgentId

if TYPE_CHECKING:
    from ..interface import AgentFactory, AgentRuntime

__all__ = ["AgentInstances"]

logger = logging.getLogger("agentgen.runtime")


class AgentInstances:
    """Factories by agent type and the agents made from them, by id.

    An agent is made on first use, once per id, even when several messages
    for it arrive while its (possibly asynchronous) factory runs.
    ``factories`` and ``agents`` are the live tables: read them, change
    them only through the methods.
    """

    __slots__ = ("_creating", "_runtime", "agents", "factories", "on_create")

    def __init__(self, runtime: AgentRuntime) -> None:
        self._runtime = runtime
        self.factories: dict[str, AgentFactory] = {}
        """Agent types registered here, with their factories."""
        self.agents: dict[AgentId, Agent] = {}
        """The agents made so far."""
        self._creating: dict[AgentId, asyncio.Future[Agent]] = {}
        self.on_create: Callable[[AgentId, Agent], Awaitable[None]] | None = None
        """Awaited with each new agent before its first message (e.g. to load
        state another worker handed over)."""

    def register(self, agent_type: str, factory: AgentFactory) -> None:
        """Register ``agent_type``; ``ValueError`` if it already is."""
        AgentId(agent_type)  # validates the type
        if agent_type in self.factories:
            raise ValueError(f"agent type {agent_type!r} is already registered")
        self.factories[agent_type] = factory

    def unregister(self, agent_type: str) -> None:
        """Forget ``agent_type`` (a registration the transport refused)."""
        self.factories.pop(agent_type, None)

    def require_type(self, agent_type: str) -> None:
        """Raise :class:`UndeliverableError` unless ``agent_type`` is registered."""
        if agent_type not in self.factories:
            raise UndeliverableError(
                f"no agent type {agent_type!r} is registered "
                f"(known: {', '.join(sorted(self.factories)) or 'none'})"
            )

    async def get(self, agent_id: AgentId) -> Agent:
        """The agent with this id, made by its type's factory if needed."""
        agent = self.agents.get(agent_id)
        if agent is not None:
            return agent
        pending = self._creating.get(agent_id)
        if pending is not None:
            return await asyncio.shield(pending)
        factory = self.factories.get(agent_id.type)
        if factory is None:
            raise UndeliverableError(f"no agent type {agent_id.type!r} is registered")
        future: asyncio.Future[Agent] = asyncio.get_running_loop().create_future()
        self._creating[agent_id] = future
        try:
            made = factory()
            agent = await made if isinstance(made, Awaitable) else made
            if not isinstance(agent, Agent):
                raise TypeError(
                    f"the factory of agent type {agent_id.type!r} returned "
                    f"{type(agent).__name__}, not an Agent"
                )
            agent.bind(self._runtime, agent_id)
            if self.on_create is not None:
                await self.on_create(agent_id, agent)
            self.agents[agent_id] = agent
            future.set_result(agent)
            return agent
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            del self._creating[agent_id]

    async def close_all(self) -> None:
        """Close every agent made so far (each once; failures are logged)."""
        agents = list(self.agents.values())
        self.agents.clear()
        for agent in agents:
            try:
                await agent.close()
            except Exception:
                logger.exception("agent %s failed to close", agent.id)

    # -- state ---------------------------------------------------------------

    async def agent_save_state(self, agent_id: AgentId) -> Mapping[str, Any]:
        """One agent's state (the agent is made if needed)."""
        agent = await self.get(agent_id)
        return dict(await agent.save_state())

    async def agent_load_state(
        self, agent_id: AgentId, state: Mapping[str, Any]
    ) -> None:
        """Restore one agent's state (the agent is made if needed)."""
        agent = await self.get(agent_id)
        await agent.load_state(state)

    async def save_state(self) -> Mapping[str, Any]:
        """The state of every agent made so far, keyed by ``"type/key"``."""
        return {
            str(agent_id): dict(await agent.save_state())
            for agent_id, agent in list(self.agents.items())
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore state produced by :meth:`save_state`."""
        agent_ids = [AgentId.from_str(key) for key in state]
        unknown = sorted({a.type for a in agent_ids if a.type not in self.factories})
        if unknown:
            raise ValueError(
                "state names agent types not registered here: " + ", ".join(unknown)
            )
        for agent_id in agent_ids:
            await self.agent_load_state(agent_id, state[str(agent_id)])
