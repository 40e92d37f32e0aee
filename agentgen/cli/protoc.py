"""Running ``grpc_tools.protoc`` over a folder of contracts.

protoc runs as ``sys.executable -m grpc_tools.protoc`` (which adds the
well-known types to the include path); agentgen's own protos are added with
``-I``, so ``import "agentgen/options.proto";`` resolves without any setup.
Besides protoc's ``--python_out``, it runs two plugins: protoc-gen-agentgen
and mypy-protobuf's protoc-gen-mypy, whose ``.pyi`` stubs (unlike protoc's
``--pyi_out``) pass ``mypy --strict``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.descriptor_pb2 import FileDescriptorSet

from agentgen.cli.errors import CliError, UsageProblem
from agentgen.protos import protos_path

__all__ = [
    "AGENTGEN_PLUGIN",
    "MYPY_PLUGIN",
    "PLUGIN_NAME",
    "Plugin",
    "ProtocFailed",
    "compile_contracts",
    "display_path",
    "find_proto_files",
    "plugin_executable",
    "read_descriptor_set",
]


@dataclass(frozen=True)
class Plugin:
    """A protoc plugin installed as a console script of this interpreter."""

    name: str  # protoc-gen-NAME, and --NAME_out
    entry: str  # Python code running it, for the launcher
    out_option: str  # protoc's output option for it, up to the folder

    def arguments(self, plugin: Path, out: Path) -> list[str]:
        """protoc's arguments that run ``plugin`` with its output in ``out``."""
        return [f"--plugin={self.name}={plugin}", f"{self.out_option}{out}"]


AGENTGEN_PLUGIN = Plugin(
    "protoc-gen-agentgen",
    "from agentgen.generator.plugin import main; raise SystemExit(main())",
    "--agentgen_out=",
)
# mypy-protobuf; ``quiet`` keeps it from printing each file it writes.
MYPY_PLUGIN = Plugin(
    "protoc-gen-mypy",
    "from mypy_protobuf.main import main; raise SystemExit(main())",
    "--mypy_out=quiet:",
)
PLUGIN_NAME = AGENTGEN_PLUGIN.name
# mypy-protobuf 4.0 and later import their own compiled extensions.proto, made
# by protoc 32 (protobuf 6.32.1): protobuf's runtime check refuses that module
# under an older protobuf (5.29, as AutoGen 0.7.5 pins), where it works. The
# check is off in the processes protoc starts (the plugins) only.
_PLUGIN_ENVIRONMENT = {"TEMPORARILY_DISABLE_PROTOBUF_VERSION_CHECK": "true"}


class ProtocFailed(CliError):
    """protoc (or a plugin it ran) failed; its own messages were already shown."""

    def __init__(self, exit_code: int) -> None:
        super().__init__(f"protoc failed (exit code {exit_code})")
        self.exit_code = exit_code


def display_path(path: Path) -> str:
    """``path`` relative to the working folder when inside it, else absolute."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def find_proto_files(proto_dir: Path) -> list[str]:
    """Every ``.proto`` below ``proto_dir`` (hidden folders skipped), sorted.

    Paths are relative to ``proto_dir`` with ``/`` separators, which is the
    name protoc gives each file (``-I proto_dir``).
    """
    if not proto_dir.exists():
        raise UsageProblem(f"proto folder '{display_path(proto_dir)}' does not exist")
    if not proto_dir.is_dir():
        raise UsageProblem(f"proto folder '{display_path(proto_dir)}' is not a folder")
    found = sorted(
        relative.as_posix()
        for relative in (
            path.relative_to(proto_dir) for path in proto_dir.rglob("*.proto")
        )
        if not any(part.startswith(".") for part in relative.parts)
        and (proto_dir / relative).is_file()
    )
    if not found:
        raise UsageProblem(f"no .proto files under '{display_path(proto_dir)}'")
    return found


@contextmanager
def plugin_executable(
    scripts_dir: Path | None = None, plugin: Plugin = AGENTGEN_PLUGIN
) -> Iterator[Path]:
    """Yield a path protoc can run as ``plugin`` (default: protoc-gen-agentgen).

    The console script in ``scripts_dir`` (default: beside ``sys.executable``)
    is preferred; if there is none (e.g. a ``--user`` install or a source
    checkout), a small launcher running this interpreter is written to a
    temporary folder, so ``generate`` works in a venv that is not on ``PATH``.
    """
    folder = scripts_dir if scripts_dir is not None else Path(sys.executable).parent
    script = folder / plugin.name
    if script.is_file() and os.access(script, os.X_OK):
        yield script
        return
    with tempfile.TemporaryDirectory(prefix="agentgen-plugin-") as temporary:
        launcher = Path(temporary) / plugin.name
        command = f"{shlex.quote(sys.executable)} -c {shlex.quote(plugin.entry)}"
        launcher.write_text(
            f'#!/bin/sh\nexec {command} "$@"\n',
            encoding="utf-8",
        )
        launcher.chmod(0o755)
        yield launcher


def _run_protoc(
    proto_dir: Path,
    arguments: Sequence[str],
    environment: Mapping[str, str] | None = None,
) -> None:
    """Run protoc, relay its output to stderr as is, raise on failure.

    ``environment`` is added to this process's for protoc and its plugins.
    """
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{proto_dir.resolve()}",
        f"-I{protos_path()}",
        *arguments,
    ]
    completed = subprocess.run(
        command,
        capture_output=True,
        check=False,
        env={**os.environ, **environment} if environment else None,
    )
    for stream in (completed.stdout, completed.stderr):
        if stream:
            sys.stderr.write(stream.decode("utf-8", errors="replace"))
    sys.stderr.flush()
    if completed.returncode != 0:
        raise ProtocFailed(completed.returncode)


def compile_contracts(
    proto_dir: Path, out: Path, plugin_options: Sequence[str] = ()
) -> list[str]:
    """Generate ``_pb2.py``, ``_pb2.pyi`` (mypy-protobuf) and ``_agents.py``.

    ``plugin_options`` (``key=value``) go to protoc-gen-agentgen, which checks
    them. Creates ``out`` if needed (and removes the folders it created if protoc
    fails, so a failed run leaves nothing behind). Returns the contracts compiled.
    """
    files = find_proto_files(proto_dir)
    if out.exists() and not out.is_dir():
        raise UsageProblem(f"output '{display_path(out)}' exists and is not a folder")
    created = _make_folders(out)
    target = out.resolve()
    try:
        with ExitStack() as plugins:
            stubs = plugins.enter_context(plugin_executable(plugin=MYPY_PLUGIN))
            agents = plugins.enter_context(plugin_executable(plugin=AGENTGEN_PLUGIN))
            _run_protoc(
                proto_dir,
                [
                    f"--python_out={target}",
                    *MYPY_PLUGIN.arguments(stubs, target),
                    *AGENTGEN_PLUGIN.arguments(agents, target),
                    *(f"--agentgen_opt={option}" for option in plugin_options),
                    *(str((proto_dir / name).resolve()) for name in files),
                ],
                _PLUGIN_ENVIRONMENT,
            )
    except BaseException:
        _remove_empty(created)
        raise
    return files


def read_descriptor_set(proto_dir: Path) -> tuple[FileDescriptorSet, list[str]]:
    """Parse every contract under ``proto_dir`` (with imports and source info).

    Returns the descriptor set and the names of the contracts themselves. The
    caller must have imported :mod:`agentgen.options_pb2` so that agentgen's
    annotations decode.
    """
    files = find_proto_files(proto_dir)
    with tempfile.TemporaryDirectory(prefix="agentgen-graph-") as folder:
        descriptor_file = Path(folder) / "contracts.binpb"
        _run_protoc(
            proto_dir,
            [
                f"--descriptor_set_out={descriptor_file}",
                "--include_imports",
                "--include_source_info",
                *(str((proto_dir / name).resolve()) for name in files),
            ],
        )
        return FileDescriptorSet.FromString(descriptor_file.read_bytes()), files


def _make_folders(folder: Path) -> list[Path]:
    """``mkdir -p folder``; return the folders created, outermost first."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _remove_empty(created: list[Path]) -> None:
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            return
