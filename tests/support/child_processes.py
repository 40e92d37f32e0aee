"""Child processes that run another venv's Python: environment and ending.

Shared by the interop tests' AutoGen peers (``tests/interop/peer_process.py``) and
the benchmark's children (``bench/procs.py``, ``bench/systems.py``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

__all__ = ["child_environment", "end_process"]

# Variables of our Python that must not leak into a child's.
_PYTHON_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")


def child_environment(python_path: Sequence[str]) -> dict[str, str]:
    """Our environment minus our Python's variables; ``python_path`` to import.

    The child's output is unbuffered and it writes no bytecode (keeping the
    source tree clean).
    """
    environment = {
        key: value for key, value in os.environ.items() if key not in _PYTHON_VARIABLES
    }
    environment["PYTHONPATH"] = os.pathsep.join(python_path)
    environment["PYTHONUNBUFFERED"] = "1"
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


async def end_process(process: asyncio.subprocess.Process, grace: float) -> None:
    """Close the child's stdin; terminate it, and kill it after ``grace`` seconds."""
    stdin = process.stdin
    if stdin is not None and not stdin.is_closing():
        stdin.close()
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()
