"""Compile the interop test contract for both sides.

* For the AutoGen peers: with the AutoGen venv's grpcio-tools (protobuf 5.29
  gencode), ``interop/v1/interop.proto`` and ``agentgen/options.proto`` (the
  contract imports it, and ``agentgen`` is not installed in that venv).
* For agentgen: with our grpcio-tools plus ``--agentgen_out``.

Each output tree gets ``__init__.py`` files, so its ``interop`` (and
``agentgen``) are regular packages that win over any namespace package of the
same name on ``sys.path``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from agentgen.protos import protos_path

__all__ = [
    "INTEROP_PROTO",
    "PROTO_ROOT",
    "AgentgenGencode",
    "GencodeError",
    "compile_for_agentgen",
    "compile_for_autogen",
]

PROTO_ROOT = Path(__file__).resolve().parent / "protos"
INTEROP_PROTO = "interop/v1/interop.proto"
OPTIONS_PROTO = "agentgen/options.proto"
PROTOC_TIMEOUT_SECONDS = 120.0
# Run in the AutoGen venv: neither top-level package of the gencode may exist
# there already (the gencode must not shadow an installed package).
_SHADOW_CHECK = (
    "import importlib.util, sys; "
    "taken = [n for n in ('interop', 'agentgen') if importlib.util.find_spec(n)]; "
    "sys.exit(f'already importable in the AutoGen venv: {taken}' if taken else 0)"
)


class GencodeError(RuntimeError):
    """protoc (or a check of its output) failed; the message says how."""


def _run(command: list[str], what: str, cwd: Path | None = None) -> None:
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=PROTOC_TIMEOUT_SECONDS,
        check=False,
        cwd=cwd,
    )
    if completed.returncode != 0:
        raise GencodeError(
            f"{what} failed (exit code {completed.returncode}): {' '.join(command)}\n"
            f"{completed.stdout}{completed.stderr}"
        )


def _make_packages(out_dir: Path, *packages: str) -> None:
    for package in packages:
        init = out_dir / package / "__init__.py"
        if not init.exists():
            init.write_text("", encoding="utf-8")


def compile_for_autogen(autogen_python: Path, out_dir: Path) -> Path:
    """Compile the contract with the AutoGen venv's protoc into ``out_dir``.

    Returns ``out_dir``, the directory to put on the peers' ``PYTHONPATH``.
    """
    _run(
        [str(autogen_python), "-c", _SHADOW_CHECK],
        "checking that the AutoGen gencode shadows nothing",
        cwd=out_dir,
    )
    _run(
        [
            str(autogen_python),
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{protos_path()}",
            f"--python_out={out_dir}",
            INTEROP_PROTO,
            OPTIONS_PROTO,
        ],
        "protoc of the AutoGen venv",
    )
    _make_packages(out_dir, "interop", "interop/v1", "agentgen")
    return out_dir


def _agentgen_plugin() -> Path:
    found = shutil.which("protoc-gen-agentgen", path=str(Path(sys.executable).parent))
    if found is None:
        raise GencodeError(
            f"protoc-gen-agentgen is not installed beside {sys.executable} "
            "(run `pip install -e .`)"
        )
    return Path(found)


def compile_for_agentgen(out_dir: Path) -> Path:
    """Compile the contract with our protoc and the agentgen plugin.

    Writes ``interop/v1/interop_pb2.py`` and ``interop/v1/interop_agents.py``
    below ``out_dir`` and returns ``out_dir`` (to put on ``sys.path``).
    """
    _run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{protos_path()}",
            f"--plugin=protoc-gen-agentgen={_agentgen_plugin()}",
            f"--python_out={out_dir}",
            f"--agentgen_out={out_dir}",
            INTEROP_PROTO,
        ],
        "protoc with the agentgen plugin",
    )
    _make_packages(out_dir, "interop", "interop/v1")
    return out_dir


class AgentgenGencode:
    """The interop contract compiled for agentgen, imported."""

    def __init__(self, pb2: ModuleType, agents: ModuleType) -> None:
        self.pb2 = pb2
        self.agents = agents
