"""The ``[tool.agentgen]`` table of the nearest ``pyproject.toml``.

It supplies the defaults of ``agentgen generate`` and ``agentgen graph``::

    [tool.agentgen]
    proto_dir = "protos"   # where the contracts live
    out = "src"            # where generated modules are written
    plugin_options = ["dotnet_names=error"]   # passed to protoc-gen-agentgen

Both paths are relative to the folder holding ``pyproject.toml``.

That folder (without a ``pyproject.toml``: the working folder) is the project
folder: ``generate`` writes only inside it, whatever ``--out`` or ``out``
say, so a contract checkout cannot make it write elsewhere. Contracts may be
read from anywhere.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from agentgen.cli.errors import UsageProblem

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_PROTO_DIR",
    "ProjectConfig",
    "find_pyproject",
    "load_project_config",
    "project_folder",
    "require_inside_project",
]

DEFAULT_PROTO_DIR = "protos"
DEFAULT_OUT = "."
_KNOWN_KEYS = frozenset({"proto_dir", "out", "plugin_options"})


@dataclass(frozen=True)
class ProjectConfig:
    """Resolved (absolute) defaults for the commands that read contracts."""

    proto_dir: Path
    out: Path
    plugin_options: tuple[str, ...]
    pyproject: Path | None


def find_pyproject(start: Path) -> Path | None:
    """Return the ``pyproject.toml`` in ``start`` or its nearest parent, if any."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def project_folder(start: Path) -> Path:
    """The folder of the ``pyproject.toml`` nearest to ``start``, else ``start``."""
    pyproject = find_pyproject(start.resolve())
    return (pyproject.parent if pyproject is not None else start).resolve()


def require_inside_project(path: Path, what: str, start: Path) -> None:
    """Refuse ``path`` (``what`` names where it came from) outside the project.

    Symbolic links and ``..`` are resolved first, so neither leads out.
    """
    root = project_folder(start)
    if not path.resolve().is_relative_to(root):
        raise UsageProblem(
            f"{what} '{path}' is outside the project folder '{root}'; agentgen "
            "generate writes only inside the project (the folder of the nearest "
            "pyproject.toml, else the working folder) unless --out is given with "
            "--allow-outside-project"
        )


def load_project_config(start: Path) -> ProjectConfig:
    """Read ``[tool.agentgen]`` from the pyproject nearest to ``start``.

    Without a pyproject (or without the table) the defaults are ``protos`` and ``.``
    relative to ``start``. A malformed file or an unknown/ill-typed key is a
    :class:`UsageProblem` naming the file and key.
    """
    start = start.resolve()
    pyproject = find_pyproject(start)
    if pyproject is None:
        return ProjectConfig(start / DEFAULT_PROTO_DIR, start / DEFAULT_OUT, (), None)
    table = _agentgen_table(pyproject)
    root = pyproject.parent
    return ProjectConfig(
        proto_dir=root
        / _path_setting(table, "proto_dir", DEFAULT_PROTO_DIR, pyproject),
        out=root / _path_setting(table, "out", DEFAULT_OUT, pyproject),
        plugin_options=_plugin_options(table, pyproject),
        pyproject=pyproject,
    )


def _agentgen_table(pyproject: Path) -> dict[str, object]:
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise UsageProblem(f"{pyproject}: cannot read it: {error}") from error
    except tomllib.TOMLDecodeError as error:
        raise UsageProblem(f"{pyproject}: not valid TOML: {error}") from error
    tool = document.get("tool", {})
    table = tool.get("agentgen", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise UsageProblem(f"{pyproject}: [tool.agentgen] must be a table")
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        known = ", ".join(sorted(_KNOWN_KEYS))
        raise UsageProblem(
            f"{pyproject}: unknown key [tool.agentgen] {unknown[0]!r} (known: {known})"
        )
    return table


def _path_setting(
    table: dict[str, object], key: str, default: str, pyproject: Path
) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise UsageProblem(
            f"{pyproject}: [tool.agentgen] {key} must be a non-empty string,"
            f" got {value!r}"
        )
    return value


def _plugin_options(table: dict[str, object], pyproject: Path) -> tuple[str, ...]:
    value = table.get("plugin_options", [])
    if not isinstance(value, list) or not all(
        isinstance(item, str) and item for item in value
    ):
        raise UsageProblem(
            f"{pyproject}: [tool.agentgen] plugin_options must be a list of "
            f'"key=value" strings, got {value!r}'
        )
    return tuple(value)
