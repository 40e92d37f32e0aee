"""The runtime's layers import in one direction only (docs/architecture.md).

* ``agentgen.runtime.wire`` (AutoGen's frames, any transport) imports no transport;
* ``agentgen.runtime.grpc.protocol`` (the gRPC streams' shared layer) imports
  neither side;
* ``agentgen.runtime.grpc.host`` never imports ``agentgen.runtime.grpc.worker``,
  and the worker never imports the host;
* the NATS transport and the gRPC one never import each other;
* the transport-independent parts (``agentgen.runtime.local``, the
  subscription table, the base runtime, the in-process runtime) import no
  transport at all.

Checked twice: by reading every import statement (type-checking ones
included), and by importing each layer alone in a fresh interpreter.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import agentgen

PACKAGE_ROOT = Path(agentgen.__file__).resolve().parent
GRPC = "agentgen.runtime.grpc"
TRANSPORT_FREE = (
    "agentgen.runtime.local",
    "agentgen.runtime.wire",
    "agentgen.runtime.placement",
    "agentgen.runtime.subscription_table",
    "agentgen.runtime.base",
    "agentgen.runtime.inprocess",
    "agentgen.runtime.agent",
    "agentgen.runtime.telemetry",
)

# (modules under this prefix, must not import modules under these prefixes)
RULES: list[tuple[str, tuple[str, ...]]] = [
    (f"{GRPC}.protocol", (f"{GRPC}.worker", f"{GRPC}.host")),
    (f"{GRPC}.host", (f"{GRPC}.worker",)),
    (f"{GRPC}.worker", (f"{GRPC}.host",)),
    (f"{GRPC}.core_engine", (f"{GRPC}.worker", f"{GRPC}.host")),
    ("agentgen.runtime.nats", (GRPC, "grpc")),
    (GRPC, ("agentgen.runtime.nats", "nats")),
    *[
        (module, (GRPC, "grpc", "agentgen.runtime.nats", "nats"))
        for module in TRANSPORT_FREE
    ],
]


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _sources() -> dict[str, Path]:
    return {
        _module_name(path): path
        for path in (PACKAGE_ROOT / "runtime").rglob("*.py")
        if not path.name.endswith(("_pb2.py", "_pb2_grpc.py"))
    }


@pytest.mark.parametrize(("layer", "forbidden"), RULES, ids=[rule[0] for rule in RULES])
def test_no_import_statement_goes_against_the_layers(
    layer: str, forbidden: tuple[str, ...]
) -> None:
    sources = {name: path for name, path in _sources().items() if _under(name, layer)}
    assert sources, f"no module under {layer}: the layout changed, update RULES"
    wrong = sorted(
        f"{name} imports {imported}"
        for name, path in sources.items()
        for imported in _imports(path)
        if any(_under(imported, prefix) for prefix in forbidden)
    )
    assert not wrong, "\n".join(wrong)


_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("agentgen.runtime"))))
"""


@pytest.mark.parametrize(
    ("imported", "absent"),
    [
        (f"{GRPC}.protocol.batching", (f"{GRPC}.worker", f"{GRPC}.host")),
        ("agentgen.runtime.wire.codec", (GRPC,)),
        ("agentgen.runtime.wire.replies", (GRPC,)),
        (f"{GRPC}.worker.runtime", (f"{GRPC}.host",)),
        (f"{GRPC}.host.server", (f"{GRPC}.worker",)),
        ("agentgen.runtime.inprocess", (GRPC,)),
        ("agentgen.runtime.nats.runtime", (GRPC, "grpc")),
    ],
)
def test_importing_a_layer_alone_loads_nothing_it_must_not(
    imported: str, absent: tuple[str, ...]
) -> None:
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", _PROBE, imported],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )
    assert imported in loaded
    wrong = [name for name in loaded if any(_under(name, p) for p in absent)]
    assert not wrong, f"importing {imported} loaded {wrong}"
