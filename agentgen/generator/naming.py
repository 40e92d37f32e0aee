"""Python names derived from .proto names.

Module names follow protoc's own ``--python_out`` layout, so that generated
``_agents`` modules import the ``_pb2`` modules exactly where protoc put them.
"""

from __future__ import annotations

import keyword
import re

_PROTO_SUFFIXES = (".protodevel", ".proto")
_WORD_BOUNDARY_AFTER_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_WORD_BOUNDARY_AFTER_LOWER = re.compile(r"([a-z0-9])([A-Z])")
_PYTHON_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)

AGENTS_SUFFIX = "_agents"
PB2_SUFFIX = "_pb2"


def module_name(proto_file: str, suffix: str) -> str:
    """Return the dotted Python module protoc derives from a .proto file name.

    ``dir/my-file.proto`` with suffix ``_pb2`` gives ``dir.my_file_pb2``.
    """
    stem = proto_file
    for proto_suffix in _PROTO_SUFFIXES:
        if stem.endswith(proto_suffix):
            stem = stem[: -len(proto_suffix)]
            break
    return stem.replace("-", "_").replace("/", ".") + suffix


def module_file(module: str) -> str:
    """Return the output file path of a dotted module name."""
    return module.replace(".", "/") + ".py"


def snake_case(name: str) -> str:
    """Convert an rpc name to snake_case: ``SayHello`` -> ``say_hello``.

    Acronyms stay one word: ``HTTPGet`` -> ``http_get``.
    """
    spaced = _WORD_BOUNDARY_AFTER_ACRONYM.sub(r"\1_\2", name)
    spaced = _WORD_BOUNDARY_AFTER_LOWER.sub(r"\1_\2", spaced)
    return spaced.lower()


def is_python_keyword(name: str) -> bool:
    """Whether ``name`` is a Python keyword or soft keyword."""
    return name in _PYTHON_KEYWORDS


def is_importable_module(module: str) -> bool:
    """Whether every part of a dotted module name is a usable identifier."""
    return all(
        part.isidentifier() and not keyword.iskeyword(part)
        for part in module.split(".")
    )


def mangled_alias(module: str) -> str:
    """Return a collision-free alias for a module, in protoc's own style.

    ``a.b_pb2`` -> ``a_dot_b__pb2``: the mapping is injective, so two distinct
    modules never get the same alias.
    """
    return module.replace("_", "__").replace(".", "_dot_")
