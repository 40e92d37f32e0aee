"""Names a generated handler or client method must not take.

A method of a generated ``SBase`` or ``SClient`` must not shadow a member of
``agentgen.runtime.Agent`` or ``AgentClient``. Importing the runtime to call
``dir()`` on them costs about 60 ms of CPU (it imports asyncio), a third of the
plugin's own work on the benchmark contract set, so the members are read from
the runtime's source instead; ``tests/generator/test_naming.py`` checks that
this gives exactly what ``dir()`` and the constructors give. Should the source
not be readable that way, the runtime is imported after all.
"""

from __future__ import annotations

import abc
import ast
import dis
import functools
from importlib import resources

from agentgen.generator.naming import is_python_keyword

RUNTIME_CLASSES = ("Agent", "AgentClient")
_RUNTIME_PACKAGE = "agentgen"
_RUNTIME_MODULE = ("runtime", "agent.py")
# Members of the generated classes themselves.
_GENERATED_MEMBERS = frozenset(
    {
        "AGENT_TYPE",
        "HANDLERS",
        "PREFIX_SUBSCRIPTIONS",
        "TOPIC_SUBSCRIPTIONS",
        "register",
    }
)


def is_dunder(name: str) -> bool:
    """Whether ``name`` has Python's special ``__name__`` form."""
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def runtime_members_from_source() -> frozenset[str] | None:
    """Members of the runtime classes as their source defines them.

    Class-body definitions and the attributes ``__init__`` assigns on ``self``;
    None when the classes are not plain classes (or ``abc.ABC`` subclasses) of
    ``agentgen/runtime/agent.py`` (then only importing them tells their members).
    """
    path = resources.files(_RUNTIME_PACKAGE).joinpath(*_RUNTIME_MODULE)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    members: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in RUNTIME_CLASSES:
            if node.keywords or node.decorator_list:
                return None
            if not all(_is_abc(base) for base in node.bases):
                return None
            members[node.name] = _class_members(node)
            if node.bases:
                members[node.name].update(dir(abc.ABC))
    if set(members) != set(RUNTIME_CLASSES):
        return None
    return frozenset(name for names in members.values() for name in names)


def _is_abc(base: ast.expr) -> bool:
    """Whether a base class expression is ``abc.ABC`` (whose members are known)."""
    return (
        isinstance(base, ast.Attribute)
        and base.attr == "ABC"
        and isinstance(base.value, ast.Name)
        and base.value.id == "abc"
    )


def _class_members(node: ast.ClassDef) -> set[str]:
    names: set[str] = set()
    for item in node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(item.name)
            if item.name == "__init__":
                names.update(_self_attributes(item))
        elif isinstance(item, ast.Assign):
            names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            names.add(item.target.id)
    return names


def _self_attributes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    return {
        node.attr
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


def runtime_members_from_classes() -> frozenset[str]:
    """Members of the imported runtime classes: ``dir()`` plus what
    ``__init__`` assigns on ``self`` (instance attributes ``dir()`` misses)."""
    from agentgen.runtime import Agent, AgentClient

    names: set[str] = set()
    for cls in (Agent, AgentClient):
        names.update(dir(cls))
        init = cls.__dict__.get("__init__")
        if init is not None:
            names.update(
                str(instruction.argval)
                for instruction in dis.get_instructions(init)
                if instruction.opname == "STORE_ATTR"
            )
    return frozenset(names)


@functools.cache
def reserved_members() -> frozenset[str]:
    """Members of ``Agent``, ``AgentClient`` and of the generated classes."""
    runtime = runtime_members_from_source()
    if runtime is None:
        runtime = runtime_members_from_classes()
    return runtime | _GENERATED_MEMBERS


def python_method_name(snake_name: str) -> str:
    """``snake_name``, with ``_`` appended if it is a keyword, a special
    ``__name__`` or a member of the runtime or generated classes."""
    if (
        is_python_keyword(snake_name)
        or is_dunder(snake_name)
        or snake_name in reserved_members()
    ):
        return snake_name + "_"
    return snake_name
