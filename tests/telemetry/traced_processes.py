"""Child processes of the telemetry tests, each tracing to memory.

An agentgen child runs ``traced_child.py`` with our Python; an AutoGen child
runs ``autogen_traced_worker.py`` with the AutoGen venv's. Both are driven
through the interop tests' :class:`PeerProcess` (JSON lines, bounded waits,
ended by pid) and print their finished spans when told to stop.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.interop.peer_process import PeerProcess
from tests.support import REPO_ROOT
from tests.support.child_processes import child_environment

HERE = Path(__file__).resolve().parent
INTEROP = HERE.parent / "interop"

__all__ = ["HERE", "INTEROP", "Span", "launch", "stop_and_collect"]

Span = dict[str, Any]
STARTUP_SECONDS = 30.0


async def launch(
    name: str,
    script: Path,
    args: list[str],
    log_dir: Path,
    *,
    python: Path | None = None,
    python_path: Sequence[Path] = (),
) -> tuple[PeerProcess, dict[str, Any]]:
    """Start ``script args`` and wait for its ``ready`` event (returned)."""
    # The repository root: children import tests.telemetry.span_dump.
    environment = child_environment([str(REPO_ROOT), *map(str, python_path)])
    stderr_path = log_dir / f"{name}.stderr.log"
    with stderr_path.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            str(python or sys.executable),
            str(script),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=environment,
            cwd=log_dir,
        )
    peer = PeerProcess(name, process, stderr_path)
    try:
        ready = await peer.wait_for(
            lambda event: event["event"] == "ready",
            what="'ready' line",
            timeout=STARTUP_SECONDS,
        )
    except BaseException:
        await peer.close()
        raise
    return peer, ready


async def stop_and_collect(peer: PeerProcess) -> list[Span]:
    """Tell the child to stop; the spans it printed (then it is ended)."""
    try:
        await peer.command("stop")
        event = await peer.wait_for(
            lambda event: event["event"] == "spans", what="its spans"
        )
    finally:
        await peer.close()
    spans: list[Span] = event["spans"]
    return spans
