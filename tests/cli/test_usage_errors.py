"""Each user mistake: one line on stderr naming the culprit, its exit code, no files.

Every case runs the CLI in an empty working folder and checks that the folder
is unchanged afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import CONTRACTS, run_cli, snapshot

USAGE = 2


def assert_refused(
    result_code: int, stderr: str, expected_code: int, *fragments: str
) -> None:
    assert result_code == expected_code, stderr
    assert "Traceback" not in stderr
    error_lines = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(error_lines) == 1, stderr
    for fragment in fragments:
        assert fragment in error_lines[0], stderr


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("my-agents", "not a valid Python package name"),
        ("1agents", "not a valid Python package name"),
        ("MyAgents", "not a valid Python package name"),
        ("agents!", "not a valid Python package name"),
        ("héllo", "not a valid Python package name"),
        ("class", "is a Python keyword"),
        ("match", "is a Python keyword"),
        ("json", "would shadow the module 'json'"),
        ("agentgen", "would shadow the module 'agentgen'"),
        ("", "the project name is empty"),
    ],
)
def test_init_refuses_invalid_names(
    capsys: pytest.CaptureFixture[str], workdir: Path, name: str, reason: str
) -> None:
    result = run_cli(capsys, "init", name)
    assert_refused(result.exit_code, result.stderr, USAGE, "agentgen init", reason)
    assert snapshot(workdir) == {}


def test_init_refuses_a_non_empty_folder(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    (workdir / "demo").mkdir()
    (workdir / "demo" / "notes.txt").write_text("mine\n")
    before = snapshot(workdir)
    result = run_cli(capsys, "init", "demo")
    assert_refused(
        result.exit_code, result.stderr, USAGE, "'demo'", "not empty", "--force"
    )
    assert snapshot(workdir) == before


def test_init_refuses_a_path_that_is_a_file(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    (workdir / "taken").write_text("a file\n")
    before = snapshot(workdir)
    result = run_cli(capsys, "init", "demo", "--path", "taken")
    assert_refused(result.exit_code, result.stderr, USAGE, "'taken'", "not a folder")
    assert snapshot(workdir) == before


def test_init_checks_the_name_before_the_folder(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    result = run_cli(capsys, "init", "bad-name", "--path", "fresh")
    assert_refused(result.exit_code, result.stderr, USAGE, "'bad-name'")
    assert snapshot(workdir) == {}


@pytest.mark.parametrize("command", ["generate", "graph"])
def test_missing_proto_folder(
    capsys: pytest.CaptureFixture[str], workdir: Path, command: str
) -> None:
    result = run_cli(capsys, command, "no_such_protos")
    assert_refused(
        result.exit_code,
        result.stderr,
        USAGE,
        f"agentgen {command}",
        "'no_such_protos' does not exist",
    )
    assert snapshot(workdir) == {}


@pytest.mark.parametrize("command", ["generate", "graph"])
def test_default_proto_folder_missing(
    capsys: pytest.CaptureFixture[str], workdir: Path, command: str
) -> None:
    result = run_cli(capsys, command)
    assert_refused(result.exit_code, result.stderr, USAGE, "'protos' does not exist")
    assert snapshot(workdir) == {}


def test_folder_without_contracts(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    (workdir / "protos" / "sub").mkdir(parents=True)
    (workdir / "protos" / "readme.txt").write_text("no contracts here\n")
    before = snapshot(workdir)
    result = run_cli(capsys, "generate", "protos", "--out", "gen")
    assert_refused(
        result.exit_code, result.stderr, USAGE, "no .proto files under 'protos'"
    )
    assert snapshot(workdir) == before


def test_out_is_a_file(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    (workdir / "gen").write_text("occupied\n")
    before = snapshot(workdir)
    result = run_cli(capsys, "generate", str(CONTRACTS / "greeter"), "--out", "gen")
    assert_refused(result.exit_code, result.stderr, USAGE, "'gen'", "not a folder")
    assert snapshot(workdir) == before


def test_syntax_error_shows_protoc_message(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    result = run_cli(
        capsys, "generate", str(CONTRACTS / "broken_syntax"), "--out", "gen/python"
    )
    assert result.exit_code == 1
    assert 'bad.proto:7:1: Expected ";".' in result.stderr
    assert "protoc failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(workdir) == {}


def test_annotation_error_shows_plugin_message(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    result = run_cli(
        capsys, "generate", str(CONTRACTS / "broken_annotation"), "--out", "gen"
    )
    assert result.exit_code == 1
    assert "--agentgen_out: " in result.stderr
    assert "bad.proto:9:" in result.stderr
    assert "'bad topic!'" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(workdir) == {}


def test_graph_unknown_format(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    result = run_cli(capsys, "graph", str(CONTRACTS / "greeter"), "--format", "png")
    assert_refused(
        result.exit_code, result.stderr, USAGE, "agentgen graph", "'png'", "--format"
    )
    assert result.stdout == ""
    assert snapshot(workdir) == {}


def test_graph_output_in_missing_folder(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    result = run_cli(
        capsys, "graph", str(CONTRACTS / "greeter"), "--output", "nowhere/g.svg"
    )
    assert_refused(
        result.exit_code, result.stderr, USAGE, "--output", "'nowhere' does not exist"
    )
    assert snapshot(workdir) == {}


def test_graph_of_broken_contract_writes_no_output(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    result = run_cli(
        capsys, "graph", str(CONTRACTS / "broken_syntax"), "--output", "g.mmd"
    )
    assert result.exit_code == 1
    assert 'Expected ";"' in result.stderr
    assert snapshot(workdir) == {}


@pytest.mark.parametrize(
    ("table", "fragments"),
    [
        ('proto-dir = "x"', ("unknown key", "'proto-dir'")),
        ("proto_dir = 3", ("proto_dir must be a non-empty string",)),
        ('out = ""', ("out must be a non-empty string",)),
        ("proto_dir = [", ("not valid TOML",)),
    ],
)
def test_bad_pyproject_settings(
    capsys: pytest.CaptureFixture[str],
    workdir: Path,
    table: str,
    fragments: tuple[str, ...],
) -> None:
    pyproject = workdir / "pyproject.toml"
    pyproject.write_text(f"[tool.agentgen]\n{table}\n")
    before = snapshot(workdir)
    result = run_cli(capsys, "generate")
    assert_refused(result.exit_code, result.stderr, USAGE, str(pyproject), *fragments)
    assert snapshot(workdir) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--tls-cert", "cert.pem"], "--tls-cert needs --tls-key"),
        (["--tls-key", "key.pem"], "--tls-key needs --tls-cert"),
        (["--tls-client-ca", "ca.pem"], "--tls-client-ca needs --tls-cert"),
        (["--address", "nonsense"], "invalid address 'nonsense'"),
        (["--max-message-size", "0"], "--max-message-size"),
    ],
)
def test_host_bad_options(
    capsys: pytest.CaptureFixture[str], workdir: Path, args: list[str], fragment: str
) -> None:
    result = run_cli(capsys, "host", *args)
    assert_refused(result.exit_code, result.stderr, USAGE, "agentgen host", fragment)
    assert result.stdout == ""
    assert snapshot(workdir) == {}


def test_host_unknown_type_sharing_mode(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    result = run_cli(capsys, "host", "--type-sharing", "round-robin")
    assert_refused(
        result.exit_code,
        result.stderr,
        USAGE,
        "agentgen host",
        "--type-sharing",
        "round-robin",
        "exclusive",
        "by-key",
        "fan-out",
    )
    assert result.stdout == ""
    assert snapshot(workdir) == {}


def test_host_unreadable_certificate(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    result = run_cli(
        capsys,
        "host",
        "--address",
        "127.0.0.1:0",
        "--tls-cert",
        "missing.pem",
        "--tls-key",
        "missing.key",
    )
    assert_refused(result.exit_code, result.stderr, USAGE, "missing.pem")
    assert snapshot(workdir) == {}


def test_unknown_command(capsys: pytest.CaptureFixture[str], workdir: Path) -> None:
    result = run_cli(capsys, "genrate")
    assert_refused(result.exit_code, result.stderr, USAGE, "'genrate'")
    assert snapshot(workdir) == {}


def test_output_folder_that_cannot_be_created(
    capsys: pytest.CaptureFixture[str], workdir: Path
) -> None:
    (workdir / "blocker").write_text("a file where a folder should go\n")
    before = snapshot(workdir)
    result = run_cli(
        capsys, "generate", str(CONTRACTS / "greeter"), "--out", "blocker/gen"
    )
    assert_refused(result.exit_code, result.stderr, 1, "blocker/gen", "Not a directory")
    assert snapshot(workdir) == before
