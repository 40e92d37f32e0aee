#!/usr/bin/env python3
"""Print pip constraints pinning each of agentgen's requirements to its floor.

Every requirement of ``pyproject.toml`` (the dependencies and every extra) with
a lower bound (``>=X``) becomes ``name==X``; ``pip install -c`` with the output
then installs the lowest declared versions, the way ``scripts/test-lowest.sh``
checks that the floors are true. What the requirements do not name (their own
dependencies) resolves as usual. A requirement without a lower bound is an
error: every floor must be declared to be tested.

Usage: ``python scripts/lowest_constraints.py [PYPROJECT]``.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# name[extras] >=floor[, more] [; marker]
_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*"
    r"(?P<specifiers>[^;]*?)\s*(?:;\s*(?P<marker>.*))?$"
)
_FLOOR = re.compile(r"^>=\s*(?P<version>[0-9][^,\s]*)$")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(pyproject: Path) -> list[str]:
    """Every requirement string of the project, dependencies and extras."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    found = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        found.extend(extra)
    return found


def constraints(pyproject: Path) -> list[str]:
    """``name==floor`` (with the marker, if any) for each requirement."""
    own_name = _normalized(
        tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["name"]
    )
    pinned: dict[str, str] = {}
    for requirement in requirements(pyproject):
        parsed = _REQUIREMENT.match(requirement.strip())
        if parsed is None:
            raise ValueError(f"{pyproject}: cannot read requirement {requirement!r}")
        name = _normalized(parsed["name"])
        if name == own_name:  # an extra naming other extras
            continue
        floors = [
            match["version"]
            for part in parsed["specifiers"].split(",")
            if (match := _FLOOR.match(part.strip()))
        ]
        if not floors:
            raise ValueError(
                f"{pyproject}: requirement {requirement!r} has no lower bound (>=)"
            )
        marker = f"; {parsed['marker']}" if parsed["marker"] else ""
        line = f"{name}=={floors[0]}{marker}"
        if pinned.setdefault(name, line) != line:
            raise ValueError(
                f"{pyproject}: {name} has two different floors: "
                f"{pinned[name]!r} and {line!r}"
            )
    return sorted(pinned.values())


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else PYPROJECT
    try:
        lines = constraints(pyproject)
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
