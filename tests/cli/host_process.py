"""Start ``agentgen host`` as a real process and read the address it announces."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_LISTENING = re.compile(r"agentgen host listening on (\S+)")


@dataclass
class HostProcess:
    """A running host: its process and ``host:port``."""

    process: subprocess.Popen[bytes]
    address: str


def read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The next stdout line of ``process``, waiting at most ``timeout`` seconds."""
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([descriptor], [], [], max(remaining, 0))
        if not ready:
            raise TimeoutError(f"no complete line within {timeout}s (got {line!r})")
        chunk = os.read(descriptor, 1)
        if not chunk:
            raise EOFError(f"stdout closed after {line!r}")
        line += chunk
    return line.decode("utf-8").rstrip("\n")


@contextmanager
def host_process(*args: str, timeout: float = 30) -> Iterator[HostProcess]:
    """Run ``python -m agentgen host ARGS``; kill it on exit if still running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "agentgen", "host", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = read_line(process, timeout)
        match = _LISTENING.fullmatch(line)
        assert match is not None, line
        yield HostProcess(process, match.group(1))
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=timeout)
