"""Compile the benchmark contract for each system, with that system's protoc.

* agentgen: ``benchproto/ping.proto`` and ``benchproto/agents.proto`` with our
  grpcio-tools, ``--python_out`` plus the agentgen plugin (``--agentgen_out``);
* AutoGen: ``benchproto/ping.proto`` with the AutoGen venv's grpcio-tools
  (protobuf 5.29 gencode); AutoGen's agents are hand-written ``RoutedAgent``s.

Each output directory is what the children of that system get on
``PYTHONPATH``: a ``benchproto`` package.
"""

from __future__ import annotations

from pathlib import Path

from .shared import protoc

__all__ = [
    "PROTO_ROOT",
    "GencodeError",
    "compile_for_agentgen",
    "compile_for_autogen",
]

PROTO_ROOT = Path(__file__).resolve().parent / "protos"
PING_PROTO = "benchproto/ping.proto"
AGENTS_PROTO = "benchproto/agents.proto"
GencodeError = protoc.GencodeError


def compile_for_agentgen(out_dir: Path) -> Path:
    """Compile both protos with our protoc and plugin; return ``out_dir``."""
    protoc.compile_protos(PROTO_ROOT, [PING_PROTO, AGENTS_PROTO], out_dir)
    protoc.make_packages(out_dir, "benchproto")
    return out_dir


def compile_for_autogen(autogen_python: Path, out_dir: Path) -> Path:
    """Compile ``ping.proto`` with the AutoGen venv's protoc; return ``out_dir``."""
    protoc.compile_protos(
        PROTO_ROOT, [PING_PROTO], out_dir, agentgen=False, python=autogen_python
    )
    protoc.make_packages(out_dir, "benchproto")
    return out_dir
