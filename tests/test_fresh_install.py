"""A newcomer's first minutes, in a fresh virtual environment.

``pip install <repo>`` (not editable, so the templates and protos must ship as
package data), then ``agentgen init demo``, ``agentgen generate``, the
scaffold's own tests, and the hello example end to end, all with the fresh
venv's programs and from folders outside the source tree (so nothing is
imported from it). pip's cache is reused between runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALL_TIMEOUT = 900
STEP_TIMEOUT = 300
# Not part of a source install: VCS data, virtualenvs, caches, build output.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "node_modules",
)


class FreshVenv:
    """A virtual environment with nothing but what the test installs."""

    def __init__(self, folder: Path) -> None:
        venv.create(folder, with_pip=True, clear=True)
        self.bin = folder / "bin"
        self.python = self.bin / "python"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
        }
        self.env["PATH"] = os.pathsep.join([str(self.bin), os.environ["PATH"]])
        self.env["VIRTUAL_ENV"] = str(folder)

    def run(
        self, *command: str | Path, cwd: Path, timeout: float = STEP_TIMEOUT
    ) -> str:
        """Run a command of this venv; fail the test with its output if it fails."""
        completed = subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = completed.stdout + completed.stderr
        if completed.returncode != 0:
            shown = " ".join(map(str, command))
            pytest.fail(f"{shown} exited {completed.returncode}:\n{output}")
        return completed.stdout

    def pip_install(self, *requirements: str | Path, cwd: Path) -> None:
        """``pip install`` with the user's pip configuration and cache."""
        self.run(
            self.python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *requirements,
            cwd=cwd,
            timeout=INSTALL_TIMEOUT,
        )


def test_fresh_install_init_generate_test_and_hello(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(REPO_ROOT, source, ignore=_NOT_SOURCE, symlinks=True)
    work = tmp_path / "work"
    work.mkdir()
    fresh = FreshVenv(tmp_path / "venv")

    fresh.pip_install(source, cwd=work)
    location = fresh.run(
        fresh.python, "-c", "import agentgen; print(agentgen.__file__)", cwd=work
    )
    assert Path(location.strip()).is_relative_to(tmp_path / "venv"), location
    assert "agentgen 0.1.0" in fresh.run(fresh.bin / "agentgen", "--version", cwd=work)

    created = fresh.run(fresh.bin / "agentgen", "init", "demo", cwd=work)
    assert "created 9 files" in created
    # pytest ships with agentgen, so the next steps need no extra install.
    assert created.endswith("  agentgen generate\n  python -m pytest\n")
    project = work / "demo"
    generated = fresh.run(fresh.bin / "agentgen", "generate", cwd=project)
    assert "generated code for 1 contract(s) from protos into src" in generated
    assert {"demo_pb2.py", "demo_pb2.pyi", "demo_agents.py"} <= {
        path.name for path in (project / "src").iterdir()
    }

    fresh.pip_install("pytest", "pytest-asyncio", cwd=work)
    tests = fresh.run(
        fresh.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project
    )
    assert re.search(r"\b4 passed\b", tests), tests

    hello = fresh.run(
        fresh.python,
        source / "examples" / "hello" / "run.py",
        "--build-dir",
        tmp_path / "hello-generated",
        cwd=work,
    )
    assert "[hello-agent] HelloAgent/python received: Hello from Python!" in hello
    assert "[user-proxy]  UserProxy/python shutting down" in hello
    assert hello.rstrip().endswith(
        "the host, HelloAgent and the user proxy all shut down cleanly"
    )
