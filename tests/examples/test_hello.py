"""The hello example end to end: ``examples/hello/run.py`` as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

RUNNER = REPO_ROOT / "examples" / "hello" / "run.py"
TIMEOUT = 120


def run_hello(
    build_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the example's runner in its own process; output is captured."""
    return subprocess.run(
        [sys.executable, str(RUNNER), "--build-dir", str(build_dir), *extra],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
        check=False,
    )


def labelled(stdout: str, label: str) -> list[str]:
    """The lines one process printed, without their label."""
    prefix = re.compile(rf"^\[{re.escape(label)}\] +")
    return [prefix.sub("", line) for line in stdout.splitlines() if prefix.match(line)]


def child_pids(stdout: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"\(pid (\d+)\)", stdout)]


def assert_gone(pids: list[int]) -> None:
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_hello_end_to_end(tmp_path: Path) -> None:
    result = run_hello(tmp_path / "generated", env={"STAY_ALIVE_ON_GOODBYE": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    agent = labelled(result.stdout, "hello-agent")
    proxy = labelled(result.stdout, "user-proxy")
    host = labelled(result.stdout, "host")
    assert "HelloAgent/python received: Hello from Python!" in agent
    assert (
        "HelloAgent/python output: ^v^v^v---Wild Hello from Python!---^v^v^v" in agent
    )
    assert "HelloAgent/default: *** python said Goodbye ***" in agent
    assert "UserProxy/default: conversation with python closed: Goodbye" in proxy
    assert "UserProxy/python output: *** python said Goodbye ***" in proxy
    assert "UserProxy/python shutting down: python said goodbye" in proxy
    assert "HelloAgent/python shutting down: python said goodbye" in agent
    assert agent[-1] == "HelloAgent stopped"
    assert proxy[-1] == "UserProxy stopped"
    assert re.fullmatch(r"agentgen host on 127\.0\.0\.1:\d+ stopped", host[-1])
    assert labelled(result.stdout, "run")[-1] == (
        "the host, HelloAgent and the user proxy all shut down cleanly"
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(path.name for path in (tmp_path / "generated").iterdir()) == [
        "hello_agents.py",
        "hello_pb2.py",
        "hello_pb2.pyi",
    ]
    assert_gone(child_pids(result.stdout))


def test_stay_alive_on_goodbye_keeps_agents_running(tmp_path: Path) -> None:
    """No Shutdown is published, so the run ends at its timeout, with cleanup."""
    result = run_hello(
        tmp_path / "generated", "--timeout", "10", env={"STAY_ALIVE_ON_GOODBYE": "true"}
    )
    assert result.returncode == 1
    agent = labelled(result.stdout, "hello-agent")
    assert "HelloAgent/default: STAY_ALIVE_ON_GOODBYE=true, staying alive" in agent
    assert not any("shutting down" in line for line in agent)
    assert "timed out waiting for hello-agent, user-proxy to stop" in result.stderr
    assert_gone(child_pids(result.stdout))
