"""Drive an AutoGen peer program (``peers/*.py``) in a child process.

The peer reads JSON command lines on stdin and writes JSON event lines on
stdout (see ``peers/peer_io.py``); its stderr goes to a file that is quoted
when a wait fails. Every wait is bounded; :meth:`PeerProcess.close` always
ends the process (terminate, then kill).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.child_processes import child_environment, end_process

__all__ = ["PEERS_DIR", "Event", "PeerLauncher", "PeerProcess", "peer_environment"]

PEERS_DIR = Path(__file__).resolve().parent / "peers"
DEFAULT_WAIT_SECONDS = 15.0
CLOSE_GRACE_SECONDS = 5.0
STDERR_TAIL_LINES = 40

Event = dict[str, Any]


def peer_environment(gencode_dir: Path) -> dict[str, str]:
    """The environment of a peer: ours, minus our Python's, plus its gencode."""
    return child_environment([str(gencode_dir)])


class PeerProcess:
    """One running peer program and every event it has printed so far."""

    def __init__(
        self, name: str, process: asyncio.subprocess.Process, stderr_path: Path
    ) -> None:
        self.name = name
        self.events: list[Event] = []
        self._process = process
        self._stderr_path = stderr_path

    @classmethod
    async def launch(
        cls,
        name: str,
        python: Path,
        script: str,
        args: Sequence[str],
        environment: Mapping[str, str],
        log_dir: Path,
    ) -> PeerProcess:
        """Start ``peers/<script>.py`` with ``python``; stderr goes to ``log_dir``."""
        stderr_path = log_dir / f"{name}.stderr.log"
        with stderr_path.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                str(python),
                str(PEERS_DIR / f"{script}.py"),
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env=dict(environment),
                cwd=log_dir,
            )
        return cls(name, process, stderr_path)

    def seen(self, predicate: Callable[[Event], bool]) -> list[Event]:
        """Every event printed so far that matches ``predicate``."""
        return [event for event in self.events if predicate(event)]

    async def wait_for(
        self,
        predicate: Callable[[Event], bool],
        *,
        what: str,
        timeout: float = DEFAULT_WAIT_SECONDS,
    ) -> Event:
        """Return the first event (printed so far or later) matching ``predicate``.

        Raises:
            AssertionError: none came within ``timeout`` seconds, or the peer
                exited; the message names ``what`` and quotes the peer's stderr.
        """
        for event in self.events:
            if predicate(event):
                return event
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = await self._read_event()
                    if predicate(event):
                        return event
        except TimeoutError:
            raise AssertionError(
                f"{self.name}: no {what} within {timeout} s\n{self._diagnostics()}"
            ) from None

    async def command(self, cmd: str, **fields: Any) -> None:
        """Send one command line."""
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode("utf-8"))
        await stdin.drain()

    async def close(self) -> None:
        """End the process: close stdin, terminate, kill if it lingers."""
        await end_process(self._process, CLOSE_GRACE_SECONDS)

    async def _read_event(self) -> Event:
        stdout = self._process.stdout
        assert stdout is not None
        line = await stdout.readline()
        if not line:
            returncode = await self._process.wait()
            raise AssertionError(
                f"{self.name} exited with code {returncode}\n{self._diagnostics()}"
            )
        try:
            event: Event = json.loads(line)
        except json.JSONDecodeError:
            event = {"event": "stdout_noise", "line": line.decode(errors="replace")}
        self.events.append(event)
        return event

    def _diagnostics(self) -> str:
        stderr = self._stderr_path.read_text(encoding="utf-8", errors="replace")
        tail = "\n".join(stderr.splitlines()[-STDERR_TAIL_LINES:])
        events = "\n".join(json.dumps(event) for event in self.events[-20:])
        return f"-- last events:\n{events}\n-- stderr tail:\n{tail}"


class PeerLauncher:
    """Starts AutoGen peer programs for one test and ends them all after it."""

    def __init__(self, python: Path, gencode: Path, log_dir: Path) -> None:
        self._python = python
        self._environment = peer_environment(gencode)
        self._log_dir = log_dir
        self._running: list[PeerProcess] = []

    async def launch(self, name: str, script: str, *args: str) -> PeerProcess:
        """Start ``peers/<script>.py args...`` under the name ``name``."""
        peer = await PeerProcess.launch(
            name, self._python, script, args, self._environment, self._log_dir
        )
        self._running.append(peer)
        return peer

    async def close_all(self) -> None:
        """End every peer started (in reverse order: workers before hosts)."""
        while self._running:
            await self._running.pop().close()
