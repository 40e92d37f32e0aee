"""The golden contract set and its committed expected output."""

from __future__ import annotations

from pathlib import Path

from tests.support.protoc import proto_files, run_protoc

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
PROTO_ROOT = GOLDEN_DIR / "protos"
EXPECTED_DIR = GOLDEN_DIR / "expected"
AGENTS_GLOB = "*_agents.py"
REGENERATE_COMMAND = "python -m tests.generator.regen_golden"


class GoldenCompileError(RuntimeError):
    """protoc refused the golden contracts."""


def compile_golden(out: Path) -> Path:
    """Compile every golden contract (``_pb2``, ``.pyi``, ``_agents``) into ``out``."""
    completed = run_protoc(PROTO_ROOT, proto_files(PROTO_ROOT), out)
    if completed.returncode != 0 or completed.stderr:
        raise GoldenCompileError(
            f"protoc on {PROTO_ROOT} exited with {completed.returncode}:\n"
            f"{completed.stderr}"
        )
    return out


def agents_modules(root: Path) -> dict[str, bytes]:
    """Every ``*_agents.py`` below ``root``, by relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob(AGENTS_GLOB))
    }
