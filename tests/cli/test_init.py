"""``agentgen init``: the scaffold generates, passes its own tests and lint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

from .helpers import run_cli, run_cli_process, snapshot

SCAFFOLD_FILES = {
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "protos/{name}.proto",
    "src/{name}/__init__.py",
    "src/{name}/__main__.py",
    "src/{name}/agents.py",
    "src/{name}/cli.py",
    "tests/test_agents.py",
}
GENERATED_FILES = {"src/{name}_pb2.py", "src/{name}_pb2.pyi", "src/{name}_agents.py"}
TIMEOUT = 180


def files_of(folder: Path) -> set[str]:
    return {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def expected(names: set[str], name: str) -> set[str]:
    return {path.format(name=name) for path in names}


def run_tool(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``agentgen init demo`` then ``agentgen generate``, as real processes."""
    workdir = tmp_path_factory.mktemp("init")
    created = run_cli_process("init", "demo", cwd=workdir)
    assert created.exit_code == 0, created.stderr
    project = workdir / "demo"
    generated = run_cli_process("generate", cwd=project)
    assert generated.exit_code == 0, generated.stderr
    assert "into src" in generated.stdout
    return project


def test_init_writes_the_project_and_generate_fills_src(demo_project: Path) -> None:
    assert files_of(demo_project) == expected(SCAFFOLD_FILES | GENERATED_FILES, "demo")


def test_scaffold_tests_pass(demo_project: Path) -> None:
    result = run_tool(demo_project, "pytest", "-q", "-p", "no:cacheprovider")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout


def test_scaffold_is_black_and_ruff_clean(demo_project: Path) -> None:
    for command in (("black", "--check", "."), ("ruff", "check", "--no-cache", ".")):
        result = run_tool(demo_project, *command)
        assert result.returncode == 0, result.stdout + result.stderr


def test_scaffold_code_is_mypy_strict_clean(demo_project: Path) -> None:
    """The project's own files type-check; agentgen is found through MYPYPATH
    because an editable install is invisible to mypy."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental"],
        cwd=demo_project,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={"MYPYPATH": f"src:{REPO_ROOT}", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    project_errors = [
        line
        for line in result.stdout.splitlines()
        if line.startswith(("src/", "tests/"))
    ]
    assert project_errors == []
    assert "checked 7 source files" in result.stdout, result.stdout


def test_init_with_a_long_name_is_black_clean(tmp_path: Path) -> None:
    name = "a_rather_long_project_name_for_agents"
    created = run_cli_process("init", name, cwd=tmp_path)
    assert created.exit_code == 0, created.stderr
    assert files_of(tmp_path / name) == expected(SCAFFOLD_FILES, name)
    result = run_tool(tmp_path / name, "black", "--check", ".")
    assert result.returncode == 0, result.stderr


def test_init_path_option(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "init", "shop", "--path", "work/shop-agents")
    assert result.exit_code == 0, result.stderr
    assert "created 9 files in work/shop-agents" in result.stdout
    project = tmp_path / "work" / "shop-agents"
    assert files_of(project) == expected(SCAFFOLD_FILES, "shop")
    assert "package shop;" in (project / "protos" / "shop.proto").read_text()


def test_init_force_writes_into_a_non_empty_folder(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("keep me\n")
    (tmp_path / "demo" / "README.md").write_text("old readme\n")
    result = run_cli(capsys, "init", "demo", "--force")
    assert result.exit_code == 0, result.stderr
    assert files_of(tmp_path / "demo") == expected(SCAFFOLD_FILES, "demo") | {
        "notes.txt"
    }
    assert (tmp_path / "demo" / "notes.txt").read_text() == "keep me\n"
    assert (tmp_path / "demo" / "README.md").read_text().startswith("# Demo\n")


def test_init_into_an_empty_folder(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    result = run_cli(capsys, "init", "demo")
    assert result.exit_code == 0, result.stderr
    assert set(snapshot(tmp_path / "demo")) >= expected(SCAFFOLD_FILES, "demo")


def test_init_next_steps(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "init", "demo")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "next:",
        "  cd demo",
        "  pip install -e '.[dev]'",
        "  agentgen generate",
        "  python -m pytest",
    ]
