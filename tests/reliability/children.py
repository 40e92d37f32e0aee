"""Child processes of the reliability tests: started, talked to, always killed.

A child speaks a line protocol on stdin/stdout. Every wait for a line has a
deadline, and :func:`spawned` kills whatever is still running on the way out,
whether the test passed or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from tests.support import REPO_ROOT

HERE = Path(__file__).resolve().parent
LINE_LIMIT = 64 * 1024 * 1024
"""Longest stdout line a child may print (soak reports are one JSON line)."""


class ChildProcess:
    """One running child and its line protocol; its stderr goes to a file."""

    def __init__(
        self, name: str, process: asyncio.subprocess.Process, stderr: Path
    ) -> None:
        self.name = name
        self.process = process
        self.stderr = stderr

    @property
    def pid(self) -> int:
        return self.process.pid

    async def read_line(self, timeout: float) -> str:
        """The next stdout line; fails with the child's stderr if it died."""
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no line within {timeout:g} s") from None
        if not line:
            raise AssertionError(f"{self.name} exited: {await self._stderr_tail()}")
        return line.decode().rstrip("\n")

    async def expect(self, prefix: str, timeout: float) -> str:
        """Read lines until one starts with ``prefix``; return the rest of it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            line = await self.read_line(max(deadline - loop.time(), 0.001))
            if line.startswith(prefix):
                return line[len(prefix) :].strip()

    async def expect_json(self, prefix: str, timeout: float) -> Any:
        """The JSON document on the next line starting with ``prefix``."""
        return json.loads(await self.expect(prefix, timeout))

    def send(self, line: str) -> None:
        """Write one line to the child's stdin."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())

    def kill(self) -> None:
        """SIGKILL, if still running."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def wait(self, timeout: float) -> int:
        """Wait for the exit status."""
        return await asyncio.wait_for(self.process.wait(), timeout)

    def rss_kib(self) -> int:
        """Resident memory (VmRSS) in KiB."""
        return _status_kib(self.pid, "VmRSS")

    def peak_rss_kib(self) -> int:
        """Peak resident memory (VmHWM) in KiB."""
        return _status_kib(self.pid, "VmHWM")

    async def _stderr_tail(self) -> str:
        with contextlib.suppress(TimeoutError):
            await self.wait(5)
        return self.stderr.read_text(errors="replace")[-3000:]


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def child_environment() -> dict[str, str]:
    """The test's environment, minus what would change the children's behaviour."""
    environment = dict(os.environ)
    environment.pop("AGENTGEN_AUTH_TOKEN", None)
    environment.pop("AGENT_HOST", None)
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


class Children:
    """Starts children; :func:`spawned` kills and reaps them all."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self.running: list[ChildProcess] = []

    async def start(self, name: str, arguments: Sequence[str]) -> ChildProcess:
        """Start ``python ARGUMENTS`` with piped stdin/stdout.

        The working directory is the repository root, so children run as
        ``python -m tests.reliability.<script>``.
        """
        stderr = self._log_dir / f"{name}-{len(self.running)}.stderr"
        with stderr.open("wb") as stderr_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *arguments,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr_file,
                env=child_environment(),
                cwd=REPO_ROOT,
                limit=LINE_LIMIT,
            )
        child = ChildProcess(name, process, stderr)
        self.running.append(child)
        return child


@contextlib.asynccontextmanager
async def spawned(log_dir: Path) -> AsyncIterator[Children]:
    """Children whose stderr goes to ``log_dir``; all killed and reaped on exit."""
    children = Children(log_dir)
    try:
        yield children
    finally:
        for child in children.running:
            child.kill()
        for child in children.running:
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                await child.wait(10)
