"""The import block of a generated module, collected symbolically.

Code generation asks for names (``use_name``) and ``_pb2`` modules
(``use_module``); only once everything is known are bound names chosen (aliased
only on clashes), deduplicated and sorted into isort-style sections.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable

from agentgen.generator.layout import LINE_LENGTH, Bracketed, render
from agentgen.generator.naming import mangled_alias


def isort_key(name: str) -> tuple[int, str]:
    """isort's ``order-by-type``: CONSTANTS, then Classes, then everything else."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _is_stdlib(module: str) -> bool:
    return module.split(".", 1)[0] in sys.stdlib_module_names


class Imports:
    """The imports one generated module needs."""

    def __init__(self) -> None:
        self._plain: set[str] = set()
        self._names: defaultdict[str, set[str]] = defaultdict(set)
        self._modules: set[str] = set()
        self._bound: dict[str, str] | None = None

    def use_plain(self, module: str) -> None:
        """Ask for ``import module``."""
        self._plain.add(module)

    def use_name(self, module: str, name: str) -> None:
        """Ask for ``from module import name``."""
        self._names[module].add(name)

    def use_module(self, module: str) -> None:
        """Ask for a dotted module, bound to a name by :meth:`resolve`."""
        self._modules.add(module)

    def bound_names(self) -> set[str]:
        """The module-level names the plain and ``from`` imports bind."""
        bound = {module.split(".", 1)[0] for module in self._plain}
        for names in self._names.values():
            bound |= names
        return bound

    def resolve(self, taken: Iterable[str]) -> dict[str, str]:
        """Bind each module asked for with ``use_module`` to a name.

        A module is bound to its last component unless that name is wanted by
        another module or is already ``taken``; then it gets its mangled alias.
        """
        taken_names = set(taken) | self.bound_names()
        wanted: defaultdict[str, list[str]] = defaultdict(list)
        for module in self._modules:
            wanted[module.rpartition(".")[2]].append(module)
        bound: dict[str, str] = {}
        for name, modules in wanted.items():
            clash = len(modules) > 1 or name in taken_names
            for module in modules:
                bound[module] = mangled_alias(module) if clash else name
        self._bound = bound
        return bound

    def statements(self) -> str:
        """The import block: sections separated by a blank line, sorted."""
        if self._bound is None:
            raise RuntimeError("Imports.resolve() must run before statements()")
        plain: set[tuple[str, str]] = {(module, "") for module in self._plain}
        names: defaultdict[str, set[str]] = defaultdict(set)
        aliased: set[tuple[str, str, str]] = set()
        for module, imported in self._names.items():
            names[module] |= imported
        for module, bound in self._bound.items():
            parent, _, last = module.rpartition(".")
            if not parent:
                plain.add((module, "" if bound == module else bound))
            elif bound == last:
                names[parent].add(last)
            else:
                aliased.add((parent, last, bound))
        sections: list[list[str]] = [[], []]
        for module, alias in sorted(plain):
            line = f"import {module} as {alias}" if alias else f"import {module}"
            sections[0 if _is_stdlib(module) else 1].append(line)
        from_lines: list[tuple[str, str]] = [
            (module, _from_import(module, sorted(imported, key=isort_key)))
            for module, imported in names.items()
        ]
        from_lines.extend(
            (parent, f"from {parent} import {last} as {alias}")
            for parent, last, alias in aliased
        )
        for module, line in sorted(from_lines):
            sections[0 if _is_stdlib(module) else 1].append(line)
        return "\n\n".join("\n".join(section) for section in sections if section)


def _from_import(module: str, names: list[str]) -> str:
    one_line = f"from {module} import {', '.join(names)}"
    if len(one_line) <= LINE_LENGTH:
        return one_line
    return render(Bracketed(f"from {module} import (", tuple(names), ")"))
