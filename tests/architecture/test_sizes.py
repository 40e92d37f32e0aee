"""Small units: no module over about 450 lines, no class over about 400.

The layout rule of the project (DEVELOPERS.md); compiled protos are exempt.
"""

from __future__ import annotations

import ast
from pathlib import Path

import agentgen

PACKAGE_ROOT = Path(agentgen.__file__).resolve().parent
MODULE_LIMIT = 450
CLASS_LIMIT = 400


def _sources() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE_ROOT.rglob("*.py")
        if not path.name.endswith(("_pb2.py", "_pb2_grpc.py"))
    )


def test_no_module_is_over_the_size_guide() -> None:
    big = [
        f"{path.relative_to(PACKAGE_ROOT)}: {lines} lines"
        for path in _sources()
        if (lines := path.read_text(encoding="utf-8").count("\n")) > MODULE_LIMIT
    ]
    assert not big, "split by responsibility:\n" + "\n".join(big)


def test_no_class_is_over_the_size_guide() -> None:
    big = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > CLASS_LIMIT:
                    big.append(
                        f"{path.relative_to(PACKAGE_ROOT)}: {node.name}, {length}"
                    )
    assert not big, "split by responsibility:\n" + "\n".join(big)
