"""Running the ``agentgen`` CLI from tests, in-process or as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentgen.cli import run

CONTRACTS = Path(__file__).resolve().parent / "contracts"


@dataclass(frozen=True)
class CliResult:
    """Exit code and captured output of one CLI run."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> CliResult:
    """Run ``agentgen ARGS`` in this process (in the current folder)."""
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def run_cli_process(
    *args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> CliResult:
    """Run ``python -m agentgen ARGS`` as its own process in ``cwd``."""
    completed = subprocess.run(
        [sys.executable, "-m", "agentgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (content) and folder (None) below ``folder``, by relative path."""
    return {
        path.relative_to(folder).as_posix(): (
            path.read_bytes() if path.is_file() else None
        )
        for path in sorted(folder.rglob("*"))
    }
