"""The scale-out example runs end to end: two NATS workers, one killed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

pytestmark = pytest.mark.timeout(180)

RUNNER = REPO_ROOT / "examples" / "scaleout" / "run.py"


def test_every_request_is_answered_when_a_worker_is_killed(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(RUNNER), "--build-dir", str(tmp_path / "build")],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "worker b killed (SIGKILL)" in output
    for round_number in (1, 2, 3):
        assert f"round {round_number}: all 100 answered" in output
    assert "keys moved from b to a; every request was answered" in output
