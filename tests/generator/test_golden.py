"""The golden contracts generate exactly the committed output, which is clean."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.protoc import proto_files, run_protoc

from .golden import (
    AGENTS_GLOB,
    EXPECTED_DIR,
    PROTO_ROOT,
    REGENERATE_COMMAND,
    agents_modules,
)
from .typecheck import run_mypy

TOOL_TIMEOUT_SECONDS = 300.0


def _diff(relative: str, expected: bytes, actual: bytes) -> str:
    return "".join(
        difflib.unified_diff(
            expected.decode().splitlines(keepends=True),
            actual.decode().splitlines(keepends=True),
            fromfile=f"expected/{relative}",
            tofile=f"generated/{relative}",
        )
    )


def test_generated_modules_match_the_committed_golden_output(
    golden_out: Path,
) -> None:
    expected = agents_modules(EXPECTED_DIR)
    generated = agents_modules(golden_out)
    assert expected, f"no committed golden output in {EXPECTED_DIR}"
    assert sorted(generated) == sorted(expected), (
        "the set of generated modules changed; if intended, run "
        f"`{REGENERATE_COMMAND}` and review the diff"
    )
    diffs = [
        _diff(relative, expected[relative], content)
        for relative, content in generated.items()
        if content != expected[relative]
    ]
    assert not diffs, (
        "generated code differs from tests/golden/expected; if intended, run "
        f"`{REGENERATE_COMMAND}` and review the diff:\n" + "\n".join(diffs)
    )


def test_every_golden_file_with_messages_or_agents_gets_a_module(
    golden_out: Path,
) -> None:
    generated = set(agents_modules(golden_out))
    expected = {
        name.removesuffix(".proto").replace("-", "_") + "_agents.py"
        for name in proto_files(PROTO_ROOT)
    }
    assert generated == expected


def test_same_input_gives_the_same_bytes(golden_out: Path, tmp_path: Path) -> None:
    completed = run_protoc(PROTO_ROOT, proto_files(PROTO_ROOT), tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert agents_modules(tmp_path) == agents_modules(golden_out)


def test_generated_modules_are_black_clean(golden_out: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--diff", "--quiet"]
        + [str(path) for path in sorted(golden_out.rglob(AGENTS_GLOB))],
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_SECONDS,
        check=False,
        cwd=golden_out,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_generated_modules_pass_mypy_strict_with_pyi_stubs(golden_out: Path) -> None:
    modules = sorted(golden_out.rglob(AGENTS_GLOB))
    result = run_mypy(golden_out, modules)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("relative", sorted(agents_modules(EXPECTED_DIR)))
def test_generated_modules_compile(relative: str) -> None:
    source = (EXPECTED_DIR / relative).read_text(encoding="utf-8")
    compile(source, relative, "exec")
