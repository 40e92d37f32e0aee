"""Compile the benchmark contract for each system, with that system's protoc.

* agentgen: ``benchproto/ping.proto`` and ``benchproto/agents.proto`` with our
  grpcio-tools, ``--python_out`` plus the agentgen plugin (``--agentgen_out``);
* AutoGen: ``benchproto/ping.proto`` with the AutoGen venv's grpcio-tools
  (protobuf 5.29 gencode); AutoGen's agents are hand-written ``RoutedAgent``s.

Each output directory is what the children of that system get on
``PYTHONPATH``: a ``benchproto`` package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from agentgen.protos import protos_path

__all__ = [
    "PROTO_ROOT",
    "GencodeError",
    "agentgen_plugin",
    "compile_for_agentgen",
    "compile_for_autogen",
]

PROTO_ROOT = Path(__file__).resolve().parent / "protos"
PING_PROTO = "benchproto/ping.proto"
AGENTS_PROTO = "benchproto/agents.proto"
PROTOC_TIMEOUT_SECONDS = 120.0


class GencodeError(RuntimeError):
    """protoc failed; the message has its command line and output."""


def _protoc(python: Path, out_dir: Path, *args: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(python),
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{protos_path()}",
        *args,
    ]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=PROTOC_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise GencodeError(
            f"protoc failed (exit code {completed.returncode}): "
            f"{' '.join(command)}\n{completed.stdout}{completed.stderr}"
        )
    (out_dir / "benchproto" / "__init__.py").touch()


def agentgen_plugin() -> Path:
    """The ``protoc-gen-agentgen`` executable of this venv."""
    found = shutil.which("protoc-gen-agentgen", path=str(Path(sys.executable).parent))
    if found is None:
        raise GencodeError(
            f"protoc-gen-agentgen is not installed beside {sys.executable} "
            "(run `pip install -e .`)"
        )
    return Path(found)


def compile_for_agentgen(out_dir: Path) -> Path:
    """Compile both protos with our protoc and plugin; return ``out_dir``."""
    _protoc(
        Path(sys.executable),
        out_dir,
        f"--plugin=protoc-gen-agentgen={agentgen_plugin()}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--agentgen_out={out_dir}",
        PING_PROTO,
        AGENTS_PROTO,
    )
    return out_dir


def compile_for_autogen(autogen_python: Path, out_dir: Path) -> Path:
    """Compile ``ping.proto`` with the AutoGen venv's protoc; return ``out_dir``."""
    _protoc(
        autogen_python,
        out_dir,
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        PING_PROTO,
    )
    return out_dir
