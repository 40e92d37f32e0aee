"""``agentgen --help``, ``--version``, ``protos-path`` and the console scripts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentgen import __version__

from .helpers import run_cli, run_cli_process

COMMANDS = ("generate", "graph", "host", "init", "protos-path")


def test_help_lists_every_command_with_its_help(tmp_path: Path) -> None:
    result = run_cli_process("--help", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    listed = {
        line.strip("│ ").split()[0]: line
        for line in result.stdout.splitlines()
        if line.strip("│ ").split()[:1] and line.strip("│ ").split()[0] in COMMANDS
    }
    assert set(listed) == set(COMMANDS)
    for command, line in listed.items():
        help_text = line.strip("│ ").removeprefix(command).strip()
        assert len(help_text.split()) >= 4, f"{command} has no help: {line!r}"


def test_no_arguments_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys)
    assert result.exit_code == 0
    assert "Usage: agentgen" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    result = run_cli(capsys, command, "--help")
    assert result.exit_code == 0, result.stderr
    assert f"Usage: agentgen {command}" in result.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "--version")
    assert (result.exit_code, result.stdout) == (0, f"agentgen {__version__}\n")


def test_protos_path_holds_the_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "protos-path")
    assert result.exit_code == 0
    folder = Path(result.stdout.strip())
    assert (folder / "agentgen" / "options.proto").is_file()


@pytest.mark.parametrize("script", ["agentgen", "protoc-gen-agentgen"])
def test_console_scripts_are_installed(script: str) -> None:
    found = Path(sys.executable).parent / script
    assert found.is_file() or shutil.which(script) is not None


def test_agentgen_console_script_runs() -> None:
    script = Path(sys.executable).parent / "agentgen"
    command = [str(script)] if script.is_file() else ["agentgen"]
    completed = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, timeout=60
    )
    assert completed.stdout == f"agentgen {__version__}\n"


def test_generate_help_names_the_pyproject_table(tmp_path: Path) -> None:
    """Rich markup must not swallow the literal ``[tool.agentgen]``."""
    result = run_cli_process("generate", "--help", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.stdout.count("[tool.agentgen]") == 3, result.stdout
