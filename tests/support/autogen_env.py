"""Create (once) and locate the cached virtual environments holding AutoGen 0.7.5.

AutoGen pins protobuf 5.29 and grpcio 1.70, older than agentgen's development
venv. The interoperability tests and the benchmarks run AutoGen programs with
the Python of a separate venv, made here on first use and reused after; a
second one (:func:`ensure_shared_venv`) holds AutoGen together with
agentgen's own dependencies, for the test that runs both in one process.

* Location: ``$AGENTGEN_AUTOGEN_VENV`` or ``~/.cache/agentgen/autogen-0.7.5``
  (the shared one: ``$AGENTGEN_SHARED_VENV`` or
  ``~/.cache/agentgen/agentgen-with-autogen-0.7.5``; AutoGen with the
  OpenTelemetry SDK, for the telemetry tests: ``$AGENTGEN_AUTOGEN_OTEL_VENV``
  or ``~/.cache/agentgen/autogen-0.7.5-otel``).
* A marker file, written only after a successful install, records what was
  installed; a venv without it (or with other requirements) is rebuilt.
* A file lock beside the venv keeps parallel runs from building it together.

Run ``python -m tests.support.autogen_env`` (from the repository root) to
build it and print its Python.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from . import REPO_ROOT

__all__ = [
    "AUTOGEN_REQUIREMENTS",
    "OTEL_REQUIREMENTS",
    "AutogenEnvError",
    "autogen_venv_dir",
    "ensure_autogen_otel_venv",
    "ensure_autogen_venv",
    "ensure_shared_venv",
    "exclusive_lock",
    "shared_requirements",
    "shared_venv_dir",
    "venv_python",
]

AUTOGEN_REQUIREMENTS: tuple[str, ...] = (
    "autogen-ext[grpc]==0.7.5",
    "autogen-core==0.7.5",
    "grpcio-tools~=1.70.0",
)
OTEL_REQUIREMENTS: tuple[str, ...] = (
    *AUTOGEN_REQUIREMENTS,
    # The in-memory span exporter of tests/telemetry's AutoGen peer; AutoGen
    # itself brings only opentelemetry-api (it resolves to this version).
    "opentelemetry-sdk==1.45.2",
)
VENV_ENV_VAR = "AGENTGEN_AUTOGEN_VENV"
DEFAULT_VENV_DIR = Path.home() / ".cache" / "agentgen" / "autogen-0.7.5"
MARKER_NAME = ".agentgen-ready"
PIP_TIMEOUT_SECONDS = 900.0
OTEL_ENV_VAR = "AGENTGEN_AUTOGEN_OTEL_VENV"
DEFAULT_OTEL_DIR = Path.home() / ".cache" / "agentgen" / "autogen-0.7.5-otel"
SHARED_ENV_VAR = "AGENTGEN_SHARED_VENV"
DEFAULT_SHARED_DIR = Path.home() / ".cache" / "agentgen" / "agentgen-with-autogen-0.7.5"
PYPROJECT = REPO_ROOT / "pyproject.toml"


class AutogenEnvError(RuntimeError):
    """The AutoGen venv could not be created (the message says why)."""


def autogen_venv_dir() -> Path:
    """Return where the AutoGen venv lives (``$AGENTGEN_AUTOGEN_VENV`` wins)."""
    configured = os.environ.get(VENV_ENV_VAR)
    return Path(configured).expanduser() if configured else DEFAULT_VENV_DIR


def shared_venv_dir() -> Path:
    """Where the venv of AutoGen and agentgen's dependencies lives."""
    configured = os.environ.get(SHARED_ENV_VAR)
    return Path(configured).expanduser() if configured else DEFAULT_SHARED_DIR


def shared_requirements() -> tuple[str, ...]:
    """autogen-ext[grpc] 0.7.5 and every runtime dependency of agentgen."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return (AUTOGEN_REQUIREMENTS[0], *project["dependencies"])


def venv_python(venv_dir: Path) -> Path:
    """Return the interpreter of the venv at ``venv_dir``."""
    return venv_dir / "bin" / "python"


def _marker_text(requirements: Sequence[str]) -> str:
    """What the marker must say: the requirements, one per line."""
    return "\n".join(requirements) + "\n"


def _is_ready(venv_dir: Path, requirements: Sequence[str]) -> bool:
    marker = venv_dir / MARKER_NAME
    if not marker.is_file() or not venv_python(venv_dir).exists():
        return False
    return marker.read_text(encoding="utf-8") == _marker_text(requirements)


@contextmanager
def exclusive_lock(venv_dir: Path) -> Iterator[None]:
    """Hold the lock file beside ``venv_dir`` (blocks while another run holds it)."""
    lock_path = venv_dir.with_name(venv_dir.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:
        # Blocks while another run builds the venv; pytest-timeout bounds the wait.
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def run_pip(python: Path, *args: str) -> None:
    """``pip install ARGS`` with ``python``; :class:`AutogenEnvError` on failure."""
    command = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        *args,
    ]
    try:
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AutogenEnvError(
            f"`{' '.join(command)}` did not finish within {PIP_TIMEOUT_SECONDS:.0f} s"
        ) from exc
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-25:])
        raise AutogenEnvError(
            f"`{' '.join(command)}` failed with exit code {completed.returncode} "
            f"(is the package index reachable?):\n{tail}"
        )


def _build(venv_dir: Path, requirements: Sequence[str]) -> None:
    if venv_dir.exists():
        shutil.rmtree(venv_dir)
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    run_pip(venv_python(venv_dir), *requirements)
    (venv_dir / MARKER_NAME).write_text(_marker_text(requirements), encoding="utf-8")


def _ensure_venv(venv_dir: Path, requirements: Sequence[str]) -> Path:
    if _is_ready(venv_dir, requirements):
        return venv_python(venv_dir)
    with exclusive_lock(venv_dir):
        if not _is_ready(venv_dir, requirements):  # another run may have built it
            _build(venv_dir, requirements)
    return venv_python(venv_dir)


def ensure_autogen_venv() -> Path:
    """Return the Python of the AutoGen venv, building the venv first if needed.

    Raises:
        AutogenEnvError: the venv could not be built (for example pip cannot
            reach the package index); the message carries pip's output.
    """
    return _ensure_venv(autogen_venv_dir(), AUTOGEN_REQUIREMENTS)


def ensure_autogen_otel_venv() -> Path:
    """Like :func:`ensure_autogen_venv`, with the OpenTelemetry SDK added.

    A venv of its own: adding the SDK to the AutoGen venv's requirements would
    rebuild that venv under the feet of every checkout that lacks it.
    """
    configured = os.environ.get(OTEL_ENV_VAR)
    venv_dir = Path(configured).expanduser() if configured else DEFAULT_OTEL_DIR
    return _ensure_venv(venv_dir, OTEL_REQUIREMENTS)


def ensure_shared_venv() -> Path:
    """Like :func:`ensure_autogen_venv`, for AutoGen with agentgen's dependencies.

    agentgen itself is not part of it: the test installs the source it runs.
    """
    return _ensure_venv(shared_venv_dir(), shared_requirements())


if __name__ == "__main__":
    try:
        print(ensure_autogen_venv())
    except AutogenEnvError as error:
        sys.exit(f"error: {error}")
