"""agentgen's side of the interop tests: recording agents on generated bases.

The bases come from ``interop_agents.py``, generated at test time by
``protoc-gen-agentgen`` (see ``gencode.py``), so the classes are made here,
once the generated module is imported. Each agent records what it receives in
an :class:`Inbox` the test awaits (bounded).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from google.protobuf.message import Message

from agentgen.runtime import Agent, AgentId, AgentRuntime, MessageContext
from agentgen.runtime.grpc import GrpcWorkerRuntime

__all__ = [
    "AgentgenWorker",
    "Delivery",
    "Inbox",
    "echo_reply",
    "register_recording_agents",
    "running_agentgen_worker",
]

WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Delivery:
    """One message an agent received, with its context."""

    agent: AgentId
    message: Message
    ctx: MessageContext


class Inbox:
    """Every delivery to the recording agents, in arrival order."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._arrived = asyncio.Condition()

    async def record(
        self, agent: AgentId, message: Message, ctx: MessageContext
    ) -> None:
        async with self._arrived:
            self.deliveries.append(Delivery(agent, message, ctx))
            self._arrived.notify_all()

    async def wait_for(
        self,
        predicate: Callable[[Delivery], bool],
        *,
        what: str,
        timeout: float = WAIT_SECONDS,
    ) -> Delivery:
        """The first delivery (so far or within ``timeout``) matching."""

        def match() -> Delivery | None:
            return next((d for d in self.deliveries if predicate(d)), None)

        try:
            async with asyncio.timeout(timeout), self._arrived:
                await self._arrived.wait_for(lambda: match() is not None)
        except TimeoutError:
            raise AssertionError(
                f"agentgen side: no {what} within {timeout} s; "
                f"got {self.deliveries}"
            ) from None
        found = match()
        assert found is not None
        return found

    async def to(self, agent: AgentId) -> Delivery:
        """The delivery to ``agent``."""
        return await self.wait_for(
            lambda d: d.agent == agent, what=f"delivery to {agent}"
        )


def echo_reply(pb2: ModuleType, request: Any, responder: AgentId) -> Any:
    """The contract's echo (the AutoGen peer's Echoer answers the same way)."""
    return pb2.EchoReply(
        text=f"echo:{request.text}",
        responder=f"{responder.type}/{responder.key}",
        big_number=request.big_number + 1,
        tags=list(reversed(request.tags)),
        mood=request.mood,
        counts={key: value * 2 for key, value in request.counts.items()},
    )


def _listener(base: type[Agent], inbox: Inbox) -> type[Agent]:
    class RecordingListener(base):  # type: ignore[misc, valid-type]
        async def on_ping(self, message: Message, ctx: MessageContext) -> None:
            await inbox.record(self.id, message, ctx)

    return RecordingListener


def _echo(base: type[Agent], pb2: ModuleType, inbox: Inbox) -> type[Agent]:
    class RecordingEcho(base):  # type: ignore[misc, valid-type]
        async def echo(self, message: Any, ctx: MessageContext) -> Any:
            await inbox.record(self.id, message, ctx)
            if message.text.startswith("raise:"):
                raise RuntimeError(message.text.removeprefix("raise:"))
            return echo_reply(pb2, message, self.id)

    return RecordingEcho


async def register_recording_agents(
    runtime: AgentRuntime, pb2: ModuleType, agents: ModuleType, inbox: Inbox
) -> list[str]:
    """Register the contract's four agent types on ``runtime``; their names."""
    classes = [
        _listener(agents.TypedListenerBase, inbox),
        _listener(agents.PrefixListenerBase, inbox),
        _listener(agents.DefaultListenerBase, inbox),
        _echo(agents.EchoBase, pb2, inbox),
    ]
    return [await runtime.register_agent_class(cls) for cls in classes]


@dataclass
class AgentgenWorker:
    """A started agentgen worker and what its recording agents received."""

    runtime: GrpcWorkerRuntime
    inbox: Inbox


@asynccontextmanager
async def running_agentgen_worker(
    host_address: str, pb2: ModuleType, agents: ModuleType, **options: Any
) -> AsyncIterator[AgentgenWorker]:
    """A ``GrpcWorkerRuntime(host_address, **options)`` with the recording agents."""
    inbox = Inbox()
    async with GrpcWorkerRuntime(host_address, **options) as runtime:
        await register_recording_agents(runtime, pb2, agents, inbox)
        yield AgentgenWorker(runtime, inbox)
