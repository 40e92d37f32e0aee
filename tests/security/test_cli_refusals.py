"""The CLI refuses to write outside the project, bad names and existing files.

Each refusal: exit code 2, one error line naming the culprit, no traceback,
and nothing written anywhere (the whole temporary tree is compared).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import CONTRACTS, run_cli, snapshot

USAGE = 2


def assert_refused(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the CLI, check it refused with one error line; return that line."""
    result = run_cli(capsys, *args)
    assert result.exit_code == USAGE, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp/project`` (the working folder, with contracts) and ``tmp/elsewhere``."""
    project = tmp_path / "project"
    shutil.copytree(CONTRACTS / "greeter", project / "protos")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(project)
    return tmp_path


@pytest.mark.parametrize("out", ["../elsewhere", "../elsewhere/gen", "gen/../../x"])
def test_generate_refuses_an_out_folder_outside_the_project(
    capsys: pytest.CaptureFixture[str], tree: Path, out: str
) -> None:
    before = snapshot(tree)
    error = assert_refused(capsys, "generate", "--out", out)
    assert f"--out '{out}' is outside the project folder" in error
    assert str(tree / "project") in error
    assert snapshot(tree) == before


def test_generate_refuses_an_absolute_out_folder_outside_the_project(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    before = snapshot(tree)
    error = assert_refused(capsys, "generate", "--out", str(tree / "elsewhere"))
    assert "is outside the project folder" in error
    assert snapshot(tree) == before


def test_generate_refuses_a_symlink_leading_out_of_the_project(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    (tree / "project" / "gen").symlink_to(tree / "elsewhere")
    before = snapshot(tree)
    error = assert_refused(capsys, "generate", "--out", "gen")
    assert "--out 'gen' is outside the project folder" in error
    assert snapshot(tree) == before


def test_generate_refuses_a_pyproject_out_outside_the_project(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    """A checked-out project's pyproject cannot point generate elsewhere."""
    pyproject = tree / "project" / "pyproject.toml"
    pyproject.write_text('[tool.agentgen]\nout = "../elsewhere"\n', encoding="utf-8")
    before = snapshot(tree)
    error = assert_refused(capsys, "generate")
    assert f"{pyproject}: [tool.agentgen] out" in error
    assert "is outside the project folder" in error
    assert snapshot(tree) == before


def test_the_project_folder_is_the_pyprojects_not_the_working_folder(
    capsys: pytest.CaptureFixture[str], tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a sub-folder, a sibling folder of the project is still inside it."""
    project = tree / "project"
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (project / "docs").mkdir()
    monkeypatch.chdir(project / "docs")
    result = run_cli(capsys, "generate", "../protos", "--out", "../gen")
    assert result.exit_code == 0, result.stderr
    assert (project / "gen" / "greeter_agents.py").is_file()


def test_contracts_outside_the_project_are_read(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    shutil.copytree(CONTRACTS / "greeter", tree / "elsewhere" / "shared")
    before_elsewhere = snapshot(tree / "elsewhere")
    result = run_cli(capsys, "generate", "../elsewhere/shared", "--out", "gen")
    assert result.exit_code == 0, result.stderr
    assert (tree / "project" / "gen" / "greeter_agents.py").is_file()
    assert snapshot(tree / "elsewhere") == before_elsewhere


@pytest.mark.parametrize(
    "name", ["../evil", "a/b", ".", "..", "/tmp/x", "name with spaces", "x\nimport os"]
)
def test_init_refuses_names_that_are_paths(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    (tmp_path / "work").mkdir()
    before = snapshot(tmp_path)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path / "work")
        error = assert_refused(capsys, "init", name)
    assert "is not a valid Python package name" in error
    assert snapshot(tmp_path) == before


def test_init_never_overwrites_without_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "demo"
    target.mkdir()
    (target / "pyproject.toml").write_text("mine\n")
    before = snapshot(tmp_path)
    error = assert_refused(capsys, "init", "demo")
    assert "'demo'" in error
    assert "--force" in error
    assert snapshot(tmp_path) == before
    forced = run_cli(capsys, "init", "demo", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert (target / "pyproject.toml").read_text() != "mine\n"


def test_an_explicit_out_may_leave_the_project_when_allowed(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    result = run_cli(
        capsys, "generate", "--out", "../elsewhere/gen", "--allow-outside-project"
    )
    assert result.exit_code == 0, result.stderr
    assert (tree / "elsewhere" / "gen" / "greeter_agents.py").is_file()


def test_the_allowance_never_extends_to_the_pyproject_out(
    capsys: pytest.CaptureFixture[str], tree: Path
) -> None:
    pyproject = tree / "project" / "pyproject.toml"
    pyproject.write_text('[tool.agentgen]\nout = "../elsewhere"\n', encoding="utf-8")
    before = snapshot(tree)
    error = assert_refused(capsys, "generate", "--allow-outside-project")
    assert f"{pyproject}: [tool.agentgen] out" in error
    assert snapshot(tree) == before
