"""Compile the interop test contract for both sides.

* For the AutoGen peers: with the AutoGen venv's grpcio-tools (protobuf 5.29
  gencode), ``interop/v1/interop.proto`` and ``agentgen/options.proto`` (the
  contract imports it, and ``agentgen`` is not installed in that venv).
* For agentgen: with our grpcio-tools plus ``--agentgen_out``.
* For the AutoGen side of the cross-language hello: the messages of AutoGen's
  sample, ``xlang_hello/protos/agent_events.proto``, as package ``protos``.

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
    "compile_xlang_hello_for_autogen",
]

PROTO_ROOT = Path(__file__).resolve().parent / "protos"
INTEROP_PROTO = "interop/v1/interop.proto"
OPTIONS_PROTO = "agentgen/options.proto"
XLANG_HELLO_ROOT = Path(__file__).resolve().parent / "xlang_hello"
XLANG_HELLO_PROTO = "protos/agent_events.proto"


def _check_nothing_shadowed(
    autogen_python: Path, packages: tuple[str, ...], out_dir: Path
) -> None:
    """No top-level package of the gencode may exist in the AutoGen venv already
    (the gencode must not shadow an installed package). Runs in the empty
    ``out_dir``, so the current folder's packages do not count."""
    check = (
        "import importlib.util, sys; "
        f"taken = [n for n in {packages!r} if importlib.util.find_spec(n)]; "
        "sys.exit(f'already importable in the AutoGen venv: {taken}' if taken else 0)"
    )
    run_checked(
        [str(autogen_python), "-c", check],
        "checking that the AutoGen gencode shadows nothing",
        cwd=out_dir,
    )


def compile_for_autogen(autogen_python: Path, out_dir: Path) -> Path:
    """Compile the contract with the AutoGen venv's protoc into ``out_dir``.

    Returns ``out_dir``, the directory to put on the peers' ``PYTHONPATH``.
    """
    _check_nothing_shadowed(autogen_python, ("interop", "agentgen"), out_dir)
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


def compile_xlang_hello_for_autogen(autogen_python: Path, out_dir: Path) -> Path:
    """Compile the hello sample's messages with the AutoGen venv's protoc.

    Writes the package ``protos`` (``protos/agent_events_pb2.py``) below
    ``out_dir`` and returns ``out_dir``, for the peer's ``PYTHONPATH``.
    """
    _check_nothing_shadowed(autogen_python, ("protos",), out_dir)
    compile_protos(
        XLANG_HELLO_ROOT,
        [XLANG_HELLO_PROTO],
        out_dir,
        agentgen=False,
        pyi=False,
        python=autogen_python,
        what="protoc of the AutoGen venv",
    )
    make_packages(out_dir, "protos")
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
