"""Measurement windows: CPU time of each child and the machine's foreign load.

A window is opened and closed at quiescent points of a flow (before ``go``,
after the last ``done``). At each end every child reports its own CPU time
(``mark``), and the machine's busy CPU time is read; what the machine spent
beyond the children and the runner is the foreign load.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .machine import busy_cpu_seconds
from .procs import Child

__all__ = ["MARK_TIMEOUT_SECONDS", "Sample", "Usage", "Window"]

MARK_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Usage:
    """What one window measured."""

    cpu_seconds: dict[str, float]
    """CPU seconds of each child (by name) inside the window."""
    wall: float
    foreign_cores: float
    """Cores' worth of CPU used by other processes of the machine."""

    def cpu_us_per(self, name: str, messages: int) -> float:
        """CPU µs of child ``name`` per message."""
        return self.cpu_seconds[name] / max(messages, 1) * 1e6


class Window:
    """Brackets one measured phase of a flow."""

    def __init__(self, children: Sequence[Child]) -> None:
        self._children = tuple(children)
        self._cpu: dict[str, float] = {}
        self._busy = 0.0
        self._own = 0.0
        self._start = 0.0

    async def open(self) -> Window:
        """Take the starting readings; returns ``self``."""
        self._cpu = await self._marks()
        self._busy = busy_cpu_seconds()
        self._own = time.process_time()
        self._start = time.monotonic()
        return self

    async def close(self) -> Usage:
        """Take the closing readings and compute the window's usage."""
        wall = time.monotonic() - self._start
        own = time.process_time() - self._own
        busy = busy_cpu_seconds() - self._busy
        ends = await self._marks()
        cpu = {name: ends[name] - start for name, start in self._cpu.items()}
        foreign = (busy - own - sum(cpu.values())) / wall if wall > 0 else 0.0
        return Usage(cpu, wall, max(foreign, 0.0))

    async def _marks(self) -> dict[str, float]:
        return {
            child.name: await child.mark(MARK_TIMEOUT_SECONDS)
            for child in self._children
        }


@dataclass
class Sample:
    """One run of one flow on one system."""

    metrics: dict[str, float] = field(default_factory=dict)
    """Measured figures by metric key (e.g. ``msgs_per_s``)."""
    cpu_us: dict[str, dict[str, float]] = field(default_factory=dict)
    """CPU µs per message of each process role, by measured phase."""
    foreign_cores: list[float] = field(default_factory=list)
    """Foreign load of each measured window."""
    error: str | None = None
    """Why the run failed, if it did (its metrics are then incomplete)."""

    def add_usage(
        self, phase: str, usage: Usage, messages: int, roles: dict[str, str]
    ) -> None:
        """Record a window: ``roles`` maps child names to the roles reported.

        Several children with one role (fan-out subscribers) are averaged.
        """
        by_role: dict[str, list[float]] = {}
        for name, role in roles.items():
            by_role.setdefault(role, []).append(usage.cpu_us_per(name, messages))
        self.cpu_us[phase] = {
            role: sum(values) / len(values) for role, values in by_role.items()
        }
        self.foreign_cores.append(usage.foreign_cores)
