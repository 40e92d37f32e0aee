"""Child processes of the runner: start, talk JSON lines, always end them.

A child prints events (``ready``, ``done``, ``mark``, ``result``, ``error``)
on stdout and reads commands on stdin (``bench/children/childio.py``). Every
wait here is bounded; :class:`ChildGroup` kills whatever is still running
when it exits, whatever happened.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from .shared import child_processes

__all__ = ["Child", "ChildFailedError", "ChildGroup", "Event"]

Event = dict[str, Any]
STDERR_TAIL_LINES = 30
STOP_GRACE_SECONDS = 10.0
LINE_LIMIT_BYTES = 1 << 20
_PY_SPY_PREFIX = b"py-spy> "


class ChildFailedError(RuntimeError):
    """A child failed, exited or timed out; the message quotes its stderr."""


class Child:
    """One running child process and the events it printed."""

    def __init__(
        self,
        name: str,
        process: asyncio.subprocess.Process,
        stderr_path: Path,
        started: float,
    ) -> None:
        self.name = name
        self.started = started
        """``time.monotonic()`` just before the process was spawned."""
        self.events: list[Event] = []
        self._process = process
        self._stderr_path = stderr_path

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._process.pid

    @classmethod
    async def spawn(
        cls,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_dir: Path,
    ) -> Child:
        """Start ``argv``; its stderr goes to ``log_dir/<name>.stderr``."""
        stderr_path = log_dir / f"{name}.stderr"
        with stderr_path.open("wb") as stderr:
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=dict(env),
                cwd=cwd,
                limit=LINE_LIMIT_BYTES,
            )
        return cls(name, process, stderr_path, started)

    async def send(self, cmd: str, **fields: Any) -> None:
        """Send one command line."""
        stdin = self._process.stdin
        if stdin is None or stdin.is_closing():
            raise self._failure(f"cannot send {cmd!r}: stdin is closed")
        stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        try:
            await stdin.drain()
        except ConnectionError as error:
            raise self._failure(f"cannot send {cmd!r}: {error}") from error

    async def expect(self, event: str, timeout: float) -> Event:
        """The next event named ``event`` (earlier other events are kept).

        Raises :class:`ChildFailedError` if the child reports an error, exits,
        or prints nothing matching within ``timeout`` seconds.
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    found = await self._read_event()
                    if found["event"] == event:
                        return found
        except TimeoutError:
            raise self._failure(f"no {event!r} within {timeout:g} s") from None

    async def mark(self, timeout: float) -> float:
        """The child's CPU seconds now."""
        await self.send("mark")
        return float((await self.expect("mark", timeout))["cpu"])

    async def stop(self, timeout: float) -> Event:
        """Ask the child to report and exit; return its ``result``."""
        await self.send("stop")
        result = await self.expect("result", timeout)
        try:
            await asyncio.wait_for(self._process.wait(), timeout)
        except TimeoutError:
            raise self._failure(f"did not exit within {timeout:g} s") from None
        return result

    async def kill(self) -> None:
        """End the process (terminate, then kill) if it still runs."""
        await child_processes.end_process(self._process, STOP_GRACE_SECONDS)

    async def _read_event(self) -> Event:
        stdout = self._process.stdout
        assert stdout is not None
        line = await stdout.readline()
        # py-spy (AGENTGEN_BENCH_PYSPY) shares the child's stdout.
        while line.startswith(_PY_SPY_PREFIX) or line == b"\n":
            line = await stdout.readline()
        if not line:
            await self._process.wait()
            raise self._failure(f"exited with code {self._process.returncode}")
        try:
            event: Event = json.loads(line)
        except json.JSONDecodeError:
            raise self._failure(f"printed a non-JSON line: {line[:200]!r}") from None
        self.events.append(event)
        if event.get("event") == "error":
            raise self._failure(f"reported: {event.get('message')}")
        return event

    def _failure(self, what: str) -> ChildFailedError:
        try:
            lines = self._stderr_path.read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        tail = "\n".join(lines[-STDERR_TAIL_LINES:])
        where = f"(stderr: {self._stderr_path})"
        return ChildFailedError(f"{self.name} {what} {where}\n{tail}".rstrip())


class ChildGroup(AbstractAsyncContextManager["ChildGroup"]):
    """Children spawned for one measurement; all are ended on exit."""

    def __init__(self, env: Mapping[str, str], cwd: Path, log_dir: Path) -> None:
        self.children: list[Child] = []
        self._env = env
        self._cwd = cwd
        self._log_dir = log_dir

    async def spawn(self, name: str, argv: Sequence[str]) -> Child:
        """Start one child in this group."""
        child = await Child.spawn(
            name, argv, env=self._env, cwd=self._cwd, log_dir=self._log_dir
        )
        self.children.append(child)
        return child

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Reverse order: workers before the host they are connected to.
        for child in reversed(self.children):
            await child.kill()
