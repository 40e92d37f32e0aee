"""The in-process tests' agent: a Probe that keeps what it receives."""

from __future__ import annotations

from typing import ClassVar

from agentgen.runtime import MessageContext
from tests.support.agents import Probe


class Recorder(Probe):
    """Records what it receives (whole texts) in ``received``."""

    AGENT_TYPE: ClassVar[str] = "recorder"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[str, MessageContext]] = []

    def record(self, value: str, ctx: MessageContext, size: int = 0) -> None:
        self.received.append((value, ctx))
