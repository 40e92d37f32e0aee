"""The systems compared: agentgen (gRPC), AutoGen 0.7.5, the bare relay floor,
agentgen on NATS and the raw nats-py floor.

A :class:`System` knows its Python, the environment of its children and the
command line of each child program in ``bench/children``. Worker programs
share one command line (``childio.parse_worker_args``), so a scenario's flow
is written once for all systems.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agentgen.runtime.grpc import core_engine

from .shared import child_processes

__all__ = [
    "AGENTGEN",
    "AGENTGEN_PACKAGE_DIR",
    "AUTOGEN",
    "CHILDREN_DIR",
    "FLOOR",
    "NATS",
    "NATS_FLOOR",
    "System",
    "child_environment",
    "precompile",
]

CHILDREN_DIR = Path(__file__).resolve().parent / "children"
AGENTGEN_PACKAGE_DIR = Path(__file__).resolve().parent.parent / "agentgen"
"""The agentgen package the benchmark measures (this checkout's)."""
AGENTGEN = "agentgen"
AUTOGEN = "autogen"
FLOOR = "floor"
NATS = "nats"
NATS_FLOOR = "nats-floor"
EXTRA_PATH_VARIABLE = "AGENTGEN_BENCH_EXTRA_PATH"
"""Extra import paths for every child (e.g. a directory holding uvloop)."""
PYSPY_VARIABLE = "AGENTGEN_BENCH_PYSPY"
"""Set to a directory to record every child with ``py-spy`` (flame data)."""
_SAMPLE_COUNTER = itertools.count(1)


def child_environment(gencode_dir: Path) -> dict[str, str]:
    """Our environment minus our Python's variables, plus ``gencode_dir``."""
    extra = os.environ.get(EXTRA_PATH_VARIABLE)
    return child_processes.child_environment(
        [str(gencode_dir), *([extra] if extra else [])]
    )


def agentgen_socket_engine() -> dict[str, str]:
    """The ``GRPC_EXPERIMENTS`` agentgen's processes import grpc with.

    agentgen sets it only while it imports grpc
    (``agentgen.runtime.grpc.core_engine``); the floor's children, bare
    grpc.aio in agentgen's venv, get it in their environment, so the floor
    measures the transport agentgen runs on. Empty when agentgen would not
    set it (the runner's environment sets ``GRPC_EXPERIMENTS``, or an
    untested grpcio).
    """
    if not core_engine.poller_applies():
        return {}
    return {core_engine.EXPERIMENTS_VARIABLE: core_engine.POLLER_EXPERIMENTS}


@dataclass(frozen=True)
class System:
    """One system under test and how to start its child programs."""

    key: str
    label: str
    python: Path
    gencode_dir: Path
    program_prefix: str
    """Child programs are ``<prefix>_host.py``, ``<prefix>_worker.py`` and
    ``<prefix>_inprocess.py`` (when the system has an in-process runtime),
    unless :attr:`programs` names another."""
    has_inprocess: bool = True
    env: Mapping[str, str] = field(default_factory=dict)
    programs: Mapping[str, str] = field(default_factory=dict)
    """Program (without ``.py``) by kind (``host``, ``worker``), where the
    prefix's does not apply (the NATS systems share ``nats_host.py``)."""
    shared_type_host_args: tuple[str, ...] = ()
    """Host options under which workers may share an agent type (scale-out)."""

    @classmethod
    def make(
        cls,
        key: str,
        label: str,
        python: Path,
        gencode_dir: Path,
        program_prefix: str,
        *,
        has_inprocess: bool = True,
        extra_env: Mapping[str, str] | None = None,
        programs: Mapping[str, str] | None = None,
        shared_type_host_args: tuple[str, ...] = (),
    ) -> System:
        """A system whose children see ``gencode_dir`` on ``PYTHONPATH``."""
        return cls(
            key,
            label,
            python,
            gencode_dir,
            program_prefix,
            has_inprocess,
            {**child_environment(gencode_dir), **(extra_env or {})},
            dict(programs or {}),
            shared_type_host_args,
        )

    def _program(self, name: str, role: str = "") -> list[str]:
        script = self.programs.get(name, f"{self.program_prefix}_{name}")
        argv = [str(self.python), str(CHILDREN_DIR / f"{script}.py")]
        return _sampled(argv, f"{script}-{role}" if role else script)

    def inprocess_argv(self, mode: str, count: int, warmup: int) -> list[str]:
        """The in-process child (``mode`` is ``publish`` or ``rpc``)."""
        if not self.has_inprocess:
            raise ValueError(f"{self.label} has no in-process runtime")
        return [
            *self._program("inprocess"),
            mode,
            f"--count={count}",
            f"--warmup={warmup}",
        ]

    def host_argv(self, *, shared_types: bool = False) -> list[str]:
        """The host (relay, NATS server) child; ``shared_types``: for scale-out."""
        return [
            *self._program("host"),
            *(self.shared_type_host_args if shared_types else ()),
        ]

    def worker_argv(
        self,
        role: str,
        address: str,
        *,
        count: int = 0,
        size: int = 100,
        random: bool = False,
        warmup: int = 0,
        agent_type: str | None = None,
        keys: int = 0,
        burn_us: float = 0.0,
    ) -> list[str]:
        """A worker child playing ``role`` (sub, pub, echo or caller)."""
        argv = [
            *self._program("worker", role),
            role,
            f"--address={address}",
            f"--count={count}",
            f"--size={size}",
            f"--warmup={warmup}",
        ]
        if random:
            argv.append("--random")
        if agent_type is not None:
            argv.append(f"--agent-type={agent_type}")
        if keys:
            argv.append(f"--keys={keys}")
        if burn_us:
            argv.append(f"--burn-us={burn_us:g}")
        return argv


def _sampled(argv: list[str], name: str) -> list[str]:
    """``argv`` under ``py-spy record`` when ``AGENTGEN_BENCH_PYSPY`` names a dir."""
    directory = os.environ.get(PYSPY_VARIABLE)
    if not directory:
        return argv
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        raise FileNotFoundError(f"{PYSPY_VARIABLE} is set but py-spy is not on PATH")
    output = Path(directory) / f"{name}-{next(_SAMPLE_COUNTER)}.txt"
    return [py_spy, "record", "--format", "raw", "-o", str(output), "--", *argv]


def current_python() -> Path:
    """The Python running the benchmark (agentgen's venv)."""
    return Path(sys.executable)


def precompile(python: Path, *dirs: Path) -> None:
    """Write the cached bytecode of every module under ``dirs`` with ``python``.

    Children inherit ``PYTHONDONTWRITEBYTECODE`` when it is set; without cached
    bytecode a child compiles every source module it imports at each start,
    and the cold-start figure (scenario 7) would count that compilation for
    the generated code and an editable agentgen, but not for packages
    installed from wheels (AutoGen's, grpc), whose bytecode pip wrote.
    """
    subprocess.run(
        [str(python), "-m", "compileall", "-q", *map(str, dirs)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
