"""``protoc-gen-agentgen``: the protoc plugin's entry point and lifecycle.

Reads a CodeGeneratorRequest from stdin, parses the plugin options, generates,
and writes the CodeGeneratorResponse to stdout. Problems with the user's
contract or options go back to protoc in ``CodeGeneratorResponse.error``; so do
internal errors, summarised: the plugin never crashes with a traceback.
"""

from __future__ import annotations

# Registers agentgen's option extensions. This must happen before the request is
# parsed, or the annotations would stay undecoded (silently).
import agentgen.generator.annotations  # noqa: F401  # isort: skip

import sys
import traceback
from collections.abc import Sequence
from pathlib import PurePath
from typing import BinaryIO, TextIO

from google.protobuf.compiler.plugin_pb2 import CodeGeneratorResponse
from google.protobuf.message import DecodeError

from agentgen import __version__
from agentgen.generator.request import PluginRequest, parse_request

PROGRAM = "protoc-gen-agentgen"
USAGE = f"""\
usage: {PROGRAM} [--version]

A protoc plugin; protoc runs it. For example:

    python -m grpc_tools.protoc -I. -I$(agentgen protos-path) \\
        --python_out=OUT --mypy_out=OUT --agentgen_out=OUT dir/x.proto

writes dir/x_agents.py beside protoc's dir/x_pb2.py.
Options: --agentgen_opt=dotnet_names=warn|error|ignore
"""
_TRACEBACK_FRAMES = 4


def internal_error(exc: BaseException) -> str:
    """A one-line report of a bug in the plugin, with a short stack summary."""
    frames = traceback.extract_tb(exc.__traceback__)[-_TRACEBACK_FRAMES:]
    where = " <- ".join(
        f"{PurePath(frame.filename).name}:{frame.lineno} in {frame.name}"
        for frame in reversed(frames)
    )
    return (
        f"internal error in {PROGRAM} {__version__}: {type(exc).__name__}: {exc} "
        f"(at {where}); this is a bug in {PROGRAM}, please report it"
    )


def _error_response(message: str) -> CodeGeneratorResponse:
    from agentgen.generator.generate import new_response

    response = new_response()
    response.error = message
    return response


def respond(request: PluginRequest) -> tuple[CodeGeneratorResponse, str]:
    """The response to one request, and the warnings for stderr. Never raises."""
    from agentgen.generator.generate import generate
    from agentgen.generator.options import PluginOptionError, parse_options

    try:
        options = parse_options(request.parameter)
        generation = generate(request, options)
    except PluginOptionError as exc:
        return _error_response(f"{PROGRAM}: {exc}"), ""
    except Exception as exc:  # a bug: report it through protoc, never crash
        return _error_response(internal_error(exc)), ""
    return generation.response, generation.warnings


def run(stdin: BinaryIO, stdout: BinaryIO, stderr: TextIO) -> int:
    """One plugin invocation: request in, response out. Returns the exit code."""
    data = stdin.read()
    try:
        response, warnings = respond(parse_request(data))
    except (DecodeError, UnicodeDecodeError):
        stderr.write(
            f"{PROGRAM}: stdin is not a CodeGeneratorRequest; this program is "
            "run by protoc (--agentgen_out=DIR)\n"
        )
        return 1
    except Exception as exc:  # a bug while reading the request
        response, warnings = _error_response(internal_error(exc)), ""
    if warnings:
        stderr.write(warnings + "\n")
    stdout.write(response.SerializeToString())
    stdout.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point of ``protoc-gen-agentgen``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        print(f"{PROGRAM} {__version__}")
        raise SystemExit(0)
    if args in (["--help"], ["-h"]):
        print(USAGE, end="")
        raise SystemExit(0)
    if args or sys.stdin.isatty():
        sys.stderr.write(USAGE)
        raise SystemExit(2)
    raise SystemExit(run(sys.stdin.buffer, sys.stdout.buffer, sys.stderr))
