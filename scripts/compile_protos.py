#!/usr/bin/env python3
"""Recompile the ``.proto`` files agentgen ships into their Python modules.

* ``agentgen/protos/agentgen/options.proto`` -> ``agentgen/options_pb2.py(i)``
  (where protoc's output for a user contract importing it looks for it);
* ``agentgen/protos/{cloudevent,agent_worker}.proto`` (AutoGen's wire protocol)
  -> ``agentgen/protos/*_pb2.py(i)`` and ``agentgen/protos/agent_worker_pb2_grpc.py``.

protoc writes the wire modules' cross imports as bare ``import cloudevent_pb2``
(the descriptor names must stay bare to share a process with autogen-ext); they
are rewritten to ``from agentgen.protos import ...`` so the package imports them.

The modules must load on every protobuf and grpcio that ``pyproject.toml``
allows, whichever grpcio-tools compiled them:

* protoc's ``ValidateProtobufRuntimeVersion`` call is removed from the
  ``_pb2.py`` modules: it refuses a runtime older than the compiling protoc
  (protobuf 5.29 for modules compiled by protoc 35) and, in protobuf 6.30-6.31,
  warns about gencode of the previous major. The code left (the serialized
  descriptor and ``builder`` calls) is the same for protoc 29 through 35.
* ``GRPC_GENERATED_VERSION`` in ``agent_worker_pb2_grpc.py``, below which the
  module refuses to load, becomes the grpcio floor of ``pyproject.toml``.

Usage: ``python scripts/compile_protos.py [--out DIR]`` (default: the repo root).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from importlib import resources
from pathlib import Path

from grpc_tools import protoc  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = REPO_ROOT / "pyproject.toml"
PROTOS_DIR = REPO_ROOT / "agentgen" / "protos"
OPTIONS_PROTO = "agentgen/options.proto"
WIRE_PROTOS = ("cloudevent.proto", "agent_worker.proto")
WIRE_PACKAGE = "agentgen.protos"

# Every module this script writes, relative to the output root.
OUTPUTS = (
    "agentgen/options_pb2.py",
    "agentgen/options_pb2.pyi",
    "agentgen/protos/cloudevent_pb2.py",
    "agentgen/protos/cloudevent_pb2.pyi",
    "agentgen/protos/agent_worker_pb2.py",
    "agentgen/protos/agent_worker_pb2.pyi",
    "agentgen/protos/agent_worker_pb2_grpc.py",
)

_BARE_IMPORT = re.compile(
    r"^import (cloudevent_pb2|agent_worker_pb2) as (\w+)$", re.MULTILINE
)
_RUNTIME_CHECK = re.compile(
    r"^from google\.protobuf import runtime_version as _runtime_version\n"
    r"(?P<between>(?:.*\n)*?)"
    r"_runtime_version\.ValidateProtobufRuntimeVersion\([^)]*\)\n",
    re.MULTILINE,
)
_RUNTIME_CHECK_NOTE = (
    "# Protobuf runtime version check removed by scripts/compile_protos.py:\n"
    "# this module loads on every protobuf agentgen supports.\n"
)
_GRPC_VERSION = re.compile(r"^GRPC_GENERATED_VERSION = '[^']*'$", re.MULTILINE)
_GRPCIO_FLOOR = re.compile(r"^grpcio\s*>=\s*([0-9][^,;\s]*)")


def _run_protoc(args: list[str]) -> None:
    well_known = resources.files("grpc_tools") / "_proto"
    command = ["grpc_tools.protoc", f"-I{PROTOS_DIR}", f"-I{well_known}", *args]
    if protoc.main(command) != 0:
        raise SystemExit(f"protoc failed: {' '.join(command)}")


def _qualify_bare_imports(module: Path) -> None:
    text = module.read_text(encoding="utf-8")
    fixed = _BARE_IMPORT.sub(rf"from {WIRE_PACKAGE} import \1 as \2", text)
    if fixed != text:
        module.write_text(fixed, encoding="utf-8")


def grpcio_floor(pyproject: Path = PYPROJECT) -> str:
    """The lowest grpcio version ``pyproject.toml`` declares."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    for requirement in project["dependencies"]:
        floor = _GRPCIO_FLOOR.match(requirement)
        if floor is not None:
            return floor.group(1)
    raise SystemExit(f"{pyproject}: no grpcio>=... requirement")


def _remove_runtime_check(module: Path) -> None:
    text = module.read_text(encoding="utf-8")
    fixed, count = _RUNTIME_CHECK.subn(
        lambda found: found["between"] + _RUNTIME_CHECK_NOTE, text
    )
    if count != 1:
        raise SystemExit(
            f"{module}: expected one protobuf runtime check, found {count}"
        )
    module.write_text(fixed, encoding="utf-8")


def _set_grpc_floor(module: Path, floor: str) -> None:
    text = module.read_text(encoding="utf-8")
    fixed, count = _GRPC_VERSION.subn(f"GRPC_GENERATED_VERSION = '{floor}'", text)
    if count != 1:
        raise SystemExit(
            f"{module}: expected one GRPC_GENERATED_VERSION, found {count}"
        )
    module.write_text(fixed, encoding="utf-8")


def compile_protos(out_root: Path) -> list[Path]:
    """Compile all shipped protos below ``out_root``; return the written modules."""
    wire_out = out_root / "agentgen" / "protos"
    wire_out.mkdir(parents=True, exist_ok=True)
    _run_protoc([f"--python_out={out_root}", f"--pyi_out={out_root}", OPTIONS_PROTO])
    _run_protoc(
        [
            f"--python_out={wire_out}",
            f"--pyi_out={wire_out}",
            f"--grpc_python_out={wire_out}",
            *WIRE_PROTOS,
        ]
    )
    # protoc also emits an empty cloudevent_pb2_grpc.py (no services): not shipped.
    (wire_out / "cloudevent_pb2_grpc.py").unlink(missing_ok=True)
    written = [out_root / relative for relative in OUTPUTS]
    floor = grpcio_floor()
    for module in written:
        if module.parent == wire_out:
            _qualify_bare_imports(module)
        if module.name.endswith("_pb2.py"):
            _remove_runtime_check(module)
        elif module.name.endswith("_pb2_grpc.py"):
            _set_grpc_floor(module, floor)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT, help="output root")
    options = parser.parse_args(argv)
    for module in compile_protos(options.out.resolve()):
        print(module)
    return 0


if __name__ == "__main__":
    sys.exit(main())
