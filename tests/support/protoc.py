"""Running real protoc (``grpc_tools.protoc``) with the agentgen plugin in tests.

Shared by every test that needs generated code, and by the benchmark:
``run_protoc`` compiles contracts (``compile_protos`` too, raising
``GencodeError`` when protoc fails, with any venv's protoc), ``importable``
makes the output importable for one test and unloads it afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from agentgen.protos import protos_path

PLUGIN_NAME = "protoc-gen-agentgen"
PROTOC_TIMEOUT_SECONDS = 120.0


class GencodeError(RuntimeError):
    """protoc (or a check of its output) failed; the message says how."""


def grpc_tools_protoc(python: Path | str) -> tuple[str, ...]:
    """The protoc bundled with the grpcio-tools of ``python``'s venv."""
    return (str(python), "-m", "grpc_tools.protoc")


GRPC_TOOLS_PROTOC = grpc_tools_protoc(sys.executable)
"""The protoc bundled with grpcio-tools, which also finds the well-known types."""


def plugin_path() -> Path:
    """The installed ``protoc-gen-agentgen`` beside this interpreter."""
    found = shutil.which(PLUGIN_NAME, path=str(Path(sys.executable).parent))
    if found is None:
        raise GencodeError(
            f"{PLUGIN_NAME} is not installed beside {sys.executable}; "
            "run `pip install -e '.[test]'`"
        )
    return Path(found)


def protoc_command(
    proto_root: Path,
    files: Sequence[str],
    out: Path,
    *,
    agentgen: bool = True,
    pyi: bool = True,
    extra_args: Sequence[str] = (),
    protoc: Sequence[str] = GRPC_TOOLS_PROTOC,
) -> list[str]:
    """The protoc command line :func:`run_protoc` runs (grpc_tools' by default)."""
    command = [
        *protoc,
        f"-I{proto_root}",
        f"-I{protos_path()}",
        f"--python_out={out}",
    ]
    if pyi:
        command.append(f"--pyi_out={out}")
    if agentgen:
        command += [f"--plugin={PLUGIN_NAME}={plugin_path()}", f"--agentgen_out={out}"]
    return [*command, *extra_args, *files]


def run_protoc(
    proto_root: Path,
    files: Sequence[str],
    out: Path,
    *,
    agentgen: bool = True,
    pyi: bool = True,
    extra_args: Sequence[str] = (),
    protoc: Sequence[str] = GRPC_TOOLS_PROTOC,
) -> subprocess.CompletedProcess[str]:
    """Compile ``files`` (relative to ``proto_root``) into ``out``; never raises.

    Runs ``python -m grpc_tools.protoc -I proto_root -I <agentgen protos>
    --python_out [--pyi_out] [--agentgen_out]``; check ``returncode`` and
    ``stderr`` of the result.
    """
    out.mkdir(parents=True, exist_ok=True)
    return _run(
        protoc_command(
            proto_root,
            files,
            out,
            agentgen=agentgen,
            pyi=pyi,
            extra_args=extra_args,
            protoc=protoc,
        )
    )


def compile_protos(
    proto_root: Path,
    files: Sequence[str],
    out: Path,
    *,
    agentgen: bool = True,
    pyi: bool = True,
    python: Path | str = sys.executable,
    what: str = "protoc",
) -> Path:
    """:func:`run_protoc` with ``python``'s grpcio-tools; returns ``out``.

    Raises ``GencodeError`` (naming ``what``) if protoc fails.
    """
    completed = run_protoc(
        proto_root,
        files,
        out,
        agentgen=agentgen,
        pyi=pyi,
        protoc=grpc_tools_protoc(python),
    )
    _check(completed, what)
    return out


def run_checked(command: Sequence[str], what: str, *, cwd: Path | None = None) -> None:
    """Run ``command``; if it fails, raise ``GencodeError`` with its output.

    ``what`` names the step in the message (``"protoc"``, a check, ...).
    """
    _check(_run(command, cwd), what)


def _run(
    command: Sequence[str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        timeout=PROTOC_TIMEOUT_SECONDS,
        check=False,
        cwd=cwd,
    )


def _check(completed: subprocess.CompletedProcess[str], what: str) -> None:
    if completed.returncode != 0:
        raise GencodeError(
            f"{what} failed (exit code {completed.returncode}): "
            f"{' '.join(completed.args)}\n{completed.stdout}{completed.stderr}"
        )


def make_packages(out: Path, *packages: str) -> None:
    """Give each ``package`` folder below ``out`` an (empty) ``__init__.py``.

    Regular packages win over any namespace package of the same name on
    ``sys.path``.
    """
    for package in packages:
        (out / package / "__init__.py").touch()


def proto_files(proto_root: Path) -> list[str]:
    """Every ``.proto`` below ``proto_root``, relative and sorted."""
    return sorted(
        path.relative_to(proto_root).as_posix() for path in proto_root.rglob("*.proto")
    )


@contextmanager
def importable(directory: Path) -> Iterator[None]:
    """Put ``directory`` first on ``sys.path``; unload its modules afterwards."""
    root = directory.resolve()
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))
        # Decide first, delete after: a namespace package's path is recomputed
        # through its parent, which must still be loaded.
        loaded = [
            name
            for name, module in list(sys.modules.items())
            if _loaded_from(module, root)
        ]
        for name in loaded:
            del sys.modules[name]


def _loaded_from(module: object, root: Path) -> bool:
    locations = [getattr(module, "__file__", None)]
    locations += list(getattr(module, "__path__", []) or [])
    return any(
        location is not None and Path(location).resolve().is_relative_to(root)
        for location in locations
    )
