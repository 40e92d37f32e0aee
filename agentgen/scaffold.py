"""``agentgen init``: a runnable agent project from the templates in
``agentgen/templates/scaffold``.

Template paths mirror the project; ``NAME`` in a path becomes the project name,
a leading ``dot-`` becomes ``.`` and the ``.j2`` suffix is dropped. Everything is
validated and rendered in memory first, so a refused project writes nothing.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path, PurePosixPath

import jinja2

from agentgen import __version__
from agentgen.cli.errors import CliError, UsageProblem

__all__ = ["check_project_name", "create_project", "render_project"]

_TEMPLATE_FOLDER = "templates/scaffold"
_NAME_TOKEN = "NAME"
_DOT_PREFIX = "dot-"
_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
# Top-level modules a project must not shadow: agentgen and what it imports,
# plus the project's own test folder.
_TAKEN_NAMES = frozenset(
    {"agentgen", "google", "grpc", "grpc_tools", "jinja2", "typer", "pytest", "tests"}
)


def check_project_name(name: str) -> None:
    """Refuse a name that cannot be a Python package, with the reason."""
    if not name:
        raise UsageProblem("the project name is empty")
    if not _NAME_PATTERN.fullmatch(name):
        raise UsageProblem(
            f"{name!r} is not a valid Python package name: use lowercase letters, "
            "digits and underscores, starting with a letter (e.g. 'my_agents')"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise UsageProblem(f"'{name}' is a Python keyword; pick another name")
    if name in sys.stdlib_module_names or name in _TAKEN_NAMES:
        raise UsageProblem(
            f"'{name}' would shadow the module '{name}' that Python or agentgen "
            "needs; pick another name"
        )


def _check_target(target: Path, force: bool) -> None:
    if target.exists() and not target.is_dir():
        raise UsageProblem(f"'{target}' exists and is not a folder")
    if target.is_dir() and not force and any(target.iterdir()):
        raise UsageProblem(
            f"folder '{target}' exists and is not empty (use --force to write "
            "into it anyway)"
        )
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageProblem(f"'{parent}' is not a folder")
            break


def _output_path(template_name: str, name: str) -> PurePosixPath:
    parts = []
    for part in PurePosixPath(template_name).parts:
        if part.startswith(_DOT_PREFIX):
            part = "." + part.removeprefix(_DOT_PREFIX)
        parts.append(part.replace(_NAME_TOKEN, name))
    path = PurePosixPath(*parts)
    return path.with_suffix("") if path.suffix == ".j2" else path


def _template_loader() -> jinja2.PackageLoader:
    """The scaffold templates, or a clear error if the installation lacks them."""
    try:
        loader = jinja2.PackageLoader("agentgen", _TEMPLATE_FOLDER)
    except ValueError:
        loader = None
    if loader is None or not loader.list_templates():
        raise CliError(
            f"agentgen's scaffold templates ({_TEMPLATE_FOLDER}) are missing from "
            "this installation; reinstall agentgen"
        )
    return loader


def render_project(name: str) -> dict[PurePosixPath, str]:
    """Render every scaffold template for ``name``: relative path -> content."""
    check_project_name(name)
    environment = jinja2.Environment(
        loader=_template_loader(),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    context = {
        "name": name,
        "title": name.replace("_", " ").title(),
        "agentgen_version": __version__,
    }
    return {
        _output_path(template_name, name): environment.get_template(
            template_name
        ).render(context)
        for template_name in sorted(environment.list_templates(extensions=["j2"]))
    }


def create_project(name: str, target: Path, *, force: bool = False) -> list[Path]:
    """Write the project for ``name`` into ``target``; return the files written.

    Raises :class:`~agentgen.cli.errors.UsageProblem` (before writing anything)
    for a bad name or a non-empty target without ``force``.
    """
    check_project_name(name)
    _check_target(target, force)
    files = render_project(name)
    written = []
    for relative, content in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
