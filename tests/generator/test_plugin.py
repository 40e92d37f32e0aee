"""The plugin's lifecycle: entry points, requests in and responses out, options,
which files get a module, and internal errors reported without a crash."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf.compiler.plugin_pb2 import (
    CodeGeneratorRequest,
    CodeGeneratorResponse,
)
from google.protobuf.descriptor_pb2 import (
    EDITION_2024,
    EDITION_PROTO2,
)

from agentgen import __version__
from agentgen.generator.options import (
    DotnetNames,
    PluginOptionError,
    PluginOptions,
    parse_options,
)
from agentgen.generator.plugin import run
from tests.support.protoc import plugin_path, run_protoc

PROCESS_TIMEOUT_SECONDS = 60.0


def _run_process(
    command: list[str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        timeout=PROCESS_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.mark.parametrize(
    "command",
    [
        [str(plugin_path()), "--version"],
        [sys.executable, "-m", "agentgen.generator", "--version"],
    ],
    ids=["console-script", "python-m"],
)
def test_version_is_printed(command: list[str]) -> None:
    completed = _run_process(command)

    assert completed.returncode == 0
    assert completed.stdout.decode().strip() == f"protoc-gen-agentgen {__version__}"


def test_unknown_arguments_print_the_usage() -> None:
    completed = _run_process([str(plugin_path()), "--frobnicate"])

    assert completed.returncode == 2
    assert b"usage: protoc-gen-agentgen" in completed.stderr


def test_stdin_that_is_no_request_gives_a_clear_error() -> None:
    completed = _run_process([str(plugin_path())], stdin=b"\xff\xff not protobuf")

    assert completed.returncode == 1
    assert b"stdin is not a CodeGeneratorRequest" in completed.stderr
    assert b"Traceback" not in completed.stderr


def _respond(request: CodeGeneratorRequest) -> tuple[int, CodeGeneratorResponse, str]:
    stdout, stderr = io.BytesIO(), io.StringIO()
    code = run(io.BytesIO(request.SerializeToString()), stdout, stderr)
    return code, CodeGeneratorResponse.FromString(stdout.getvalue()), stderr.getvalue()


def test_response_declares_proto3_optional_and_editions_support() -> None:
    code, response, _ = _respond(CodeGeneratorRequest())

    assert code == 0
    assert not response.error
    assert response.supported_features == (
        CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
        | CodeGeneratorResponse.FEATURE_SUPPORTS_EDITIONS
    )
    assert (response.minimum_edition, response.maximum_edition) == (
        EDITION_PROTO2,
        EDITION_2024,
    )


def test_internal_errors_are_reported_through_protoc_not_raised() -> None:
    # A request naming a file it does not carry: protoc never sends one, so the
    # plugin fails internally, and must say so cleanly.
    request = CodeGeneratorRequest(file_to_generate=["missing.proto"])

    code, response, stderr = _respond(request)

    assert code == 0
    assert response.error.startswith(
        f"internal error in protoc-gen-agentgen {__version__}: KeyError: "
    )
    assert "generate.py:" in response.error
    assert "please report it" in response.error
    assert "Traceback" not in response.error + stderr
    assert not response.file


def test_invalid_option_value_is_reported_through_protoc() -> None:
    request = CodeGeneratorRequest(parameter="dotnet_names=loud")

    _, response, _ = _respond(request)

    assert "invalid value 'loud' for option 'dotnet_names'" in response.error
    assert "warn, error, ignore" in response.error


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        ("", PluginOptions()),
        ("dotnet_names=error", PluginOptions(dotnet_names=DotnetNames.ERROR)),
        (" dotnet_names = ignore ,", PluginOptions(dotnet_names=DotnetNames.IGNORE)),
    ],
)
def test_options_are_parsed(parameter: str, expected: PluginOptions) -> None:
    assert parse_options(parameter) == expected


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ("dotnet_names", "needs a value"),
        ("dotnet_names=warn,dotnet_names=error", "given twice"),
        ("black=true", "unknown option 'black'"),
    ],
)
def test_bad_options_are_refused(parameter: str, message: str) -> None:
    with pytest.raises(PluginOptionError, match=message):
        parse_options(parameter)


def test_only_files_with_messages_or_agents_get_a_module(tmp_path: Path) -> None:
    protos = tmp_path / "protos"
    (protos / "lib").mkdir(parents=True)
    (protos / "lib/enums.proto").write_text(
        'syntax = "proto3";\npackage lib;\nenum Colour { COLOUR_UNSPECIFIED = 0; }\n'
    )
    (protos / "lib/plain.proto").write_text(
        'syntax = "proto3";\npackage lib;\nimport "lib/enums.proto";\n'
        "message Paint { lib.Colour colour = 1; }\n"
        "service Painter { rpc Paint(lib.Paint) returns (lib.Paint); }\n"
    )
    out = tmp_path / "out"

    completed = run_protoc(protos, ["lib/enums.proto", "lib/plain.proto"], out)

    assert completed.returncode == 0, completed.stderr
    assert not (out / "lib/enums_agents.py").exists()
    plain = (out / "lib/plain_agents.py").read_text()
    assert "serializer_table(plain_pb2.Paint)" in plain
    assert "class " not in plain, "a service without (agentgen.agent) got classes"
    assert '__all__ = ["SERIALIZERS", "TOPICS"]' in plain
