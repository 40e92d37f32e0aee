"""``agentgen generate``: defaults from pyproject, options, the plugin launcher."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentgen.cli.protoc import AGENTGEN_PLUGIN, MYPY_PLUGIN, Plugin, plugin_executable
from agentgen.protos import protos_path

from .helpers import CONTRACTS, run_cli, snapshot

GREETER_OUTPUTS = ["greeter_agents.py", "greeter_pb2.py", "greeter_pb2.pyi"]
# Imports the generated modules and checks what they declare.
_PROBE = (
    "import greeter_agents, greeter_pb2; "
    "assert greeter_agents.GreeterBase.AGENT_TYPE == 'Greeter'; "
    "assert greeter_agents.TOPICS[greeter_pb2.Hello] == 'greetings'; "
    "print('ok')"
)


def import_generated(folder: Path) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose pyproject points at contracts/ and gen/; cwd is a subfolder."""
    shutil.copytree(CONTRACTS / "greeter", tmp_path / "contracts")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.agentgen]\nproto_dir = "contracts"\n'
        'out = "gen/python"\n'
    )
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path / "docs")
    return tmp_path


def test_defaults_come_from_the_nearest_pyproject(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    result = run_cli(capsys, "generate")
    assert result.exit_code == 0, result.stderr
    out = project / "gen" / "python"
    assert sorted(path.name for path in out.iterdir()) == GREETER_OUTPUTS
    assert "generated code for 1 contract(s)" in result.stdout
    assert import_generated(out) == "ok"
    assert sorted(snapshot(project)) == sorted(
        [
            "contracts",
            "contracts/greeter.proto",
            "docs",
            "gen",
            "gen/python",
            "pyproject.toml",
            *(f"gen/python/{name}" for name in GREETER_OUTPUTS),
        ]
    )


def test_arguments_override_pyproject(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    result = run_cli(capsys, "generate", "../contracts", "--out", "here")
    assert result.exit_code == 0, result.stderr
    assert sorted(path.name for path in (project / "docs" / "here").iterdir()) == (
        GREETER_OUTPUTS
    )
    assert not (project / "gen").exists()


def test_without_pyproject_defaults_are_protos_and_cwd(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(CONTRACTS / "greeter", tmp_path / "protos" / "greet")
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "generate")
    assert result.exit_code == 0, result.stderr
    # Sub-folders of the proto folder become packages of the output.
    generated = sorted(path.name for path in (tmp_path / "greet").iterdir())
    assert generated == GREETER_OUTPUTS


def test_plugin_options_from_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    contracts = str(CONTRACTS / "dotnet_name")
    warned = run_cli(capsys, "generate", contracts, "--out", "warned")
    assert warned.exit_code == 0, warned.stderr
    assert "relay-agent" in warned.stderr  # the plugin's default: a warning
    refused = run_cli(
        capsys, "generate", contracts, "--out", "refused", "--opt", "dotnet_names=error"
    )
    assert refused.exit_code == 1
    assert "relay.proto:" in refused.stderr and "relay-agent" in refused.stderr
    assert not (tmp_path / "refused").exists()
    unknown = run_cli(capsys, "generate", contracts, "--out", "x", "--opt", "bogus=1")
    assert unknown.exit_code == 1
    assert "'bogus'" in unknown.stderr
    assert not (tmp_path / "x").exists()


def test_plugin_options_from_pyproject(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(CONTRACTS / "dotnet_name", tmp_path / "protos")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.agentgen]\nout = "gen"\nplugin_options = ["dotnet_names=error"]\n'
    )
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "generate")
    assert result.exit_code == 1
    assert "relay-agent" in result.stderr
    assert not (tmp_path / "gen").exists()


@pytest.mark.parametrize(
    ("plugin", "written"),
    [(AGENTGEN_PLUGIN, "greeter_agents.py"), (MYPY_PLUGIN, "greeter_pb2.pyi")],
    ids=["agentgen", "mypy"],
)
def test_launcher_is_used_without_a_console_script(
    tmp_path: Path, plugin: Plugin, written: str
) -> None:
    """With no console script beside the interpreter, a launcher runs the plugin."""
    out = tmp_path / "out"
    out.mkdir()
    with plugin_executable(scripts_dir=tmp_path, plugin=plugin) as launcher:
        assert launcher.parent != tmp_path and launcher.name == plugin.name
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"-I{CONTRACTS / 'greeter'}",
                f"-I{protos_path()}",
                f"--python_out={out}",
                *plugin.arguments(launcher, out),
                "greeter.proto",
            ],
            env={**os.environ, "TEMPORARILY_DISABLE_PROTOBUF_VERSION_CHECK": "true"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr
    assert not launcher.exists()  # the temporary launcher is removed afterwards
    assert (out / written).is_file()
    if plugin is AGENTGEN_PLUGIN:
        assert import_generated(out) == "ok"
    else:
        stubs = (out / written).read_text(encoding="utf-8")
        assert stubs.startswith('"""\n@generated by mypy-protobuf.')
