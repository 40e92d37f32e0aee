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

from pathlib import Path
from types import ModuleType

from tests.support.protoc import (
    GencodeError,
    compile_protos,
    make_packages,
    run_checked,
)

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
# Run in the AutoGen venv: neither top-level package of the gencode may exist
# there already (the gencode must not shadow an installed package).
_SHADOW_CHECK = (
    "import importlib.util, sys; "
    "taken = [n for n in ('interop', 'agentgen') if importlib.util.find_spec(n)]; "
    "sys.exit(f'already importable in the AutoGen venv: {taken}' if taken else 0)"
)


def compile_for_autogen(autogen_python: Path, out_dir: Path) -> Path:
    """Compile the contract with the AutoGen venv's protoc into ``out_dir``.

    Returns ``out_dir``, the directory to put on the peers' ``PYTHONPATH``.
    """
    run_checked(
        [str(autogen_python), "-c", _SHADOW_CHECK],
        "checking that the AutoGen gencode shadows nothing",
        cwd=out_dir,
    )
    compile_protos(
        PROTO_ROOT,
        [INTEROP_PROTO, OPTIONS_PROTO],
        out_dir,
        agentgen=False,
        pyi=False,
        python=autogen_python,
        what="protoc of the AutoGen venv",
    )
    make_packages(out_dir, "interop", "interop/v1", "agentgen")
    return out_dir


def compile_for_agentgen(out_dir: Path) -> Path:
    """Compile the contract with our protoc and the agentgen plugin.

    Writes ``interop/v1/interop_pb2.py`` and ``interop/v1/interop_agents.py``
    below ``out_dir`` and returns ``out_dir`` (to put on ``sys.path``).
    """
    compile_protos(
        PROTO_ROOT,
        [INTEROP_PROTO],
        out_dir,
        pyi=False,
        what="protoc with the agentgen plugin",
    )
    make_packages(out_dir, "interop", "interop/v1")
    return out_dir


class AgentgenGencode:
    """The interop contract compiled for agentgen, imported."""

    def __init__(self, pb2: ModuleType, agents: ModuleType) -> None:
        self.pb2 = pb2
        self.agents = agents
