"""JSON-lines I/O shared by the AutoGen peer programs.

The peers run with the AutoGen venv's Python. They read commands as JSON
lines on stdin and report what happens as JSON lines on stdout (one object per
line, always with an ``"event"`` key); logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any


def emit(event: str, **fields: Any) -> None:
    """Write one event line to stdout and flush it at once."""
    sys.stdout.write(json.dumps({"event": event, **fields}, sort_keys=True) + "\n")
    sys.stdout.flush()


async def stdin_commands() -> AsyncIterator[dict[str, Any]]:
    """Yield each JSON command line from stdin until it closes."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    while line := await reader.readline():
        if line.strip():
            command: dict[str, Any] = json.loads(line)
            yield command
