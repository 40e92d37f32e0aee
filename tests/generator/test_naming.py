"""Python names and imports derived from .proto names."""

from __future__ import annotations

import pytest

from agentgen.generator.imports import Imports
from agentgen.generator.naming import mangled_alias, module_name, snake_case
from agentgen.generator.reserved import (
    is_dunder,
    python_method_name,
    runtime_members_from_classes,
    runtime_members_from_source,
)


@pytest.mark.parametrize(
    ("rpc", "method"),
    [
        ("SayHello", "say_hello"),
        ("HTTPGet", "http_get"),
        ("getHTTPResponse", "get_http_response"),
        ("Call0", "call0"),
        ("V2Search", "v2_search"),
        ("already_snake", "already_snake"),
    ],
)
def test_rpc_names_become_snake_case(rpc: str, method: str) -> None:
    assert snake_case(rpc) == method


@pytest.mark.parametrize(
    ("snake", "method"),
    [
        ("import", "import_"),
        ("match", "match_"),
        ("close", "close_"),
        ("publish_message", "publish_message_"),
        ("register", "register_"),
        ("_call", "_call_"),
        ("agent_id", "agent_id_"),
        ("__init__", "__init___"),
        ("sender", "sender_"),
        ("say_hello", "say_hello"),
    ],
)
def test_keywords_and_runtime_members_get_an_underscore(
    snake: str, method: str
) -> None:
    assert python_method_name(snake) == method


@pytest.mark.parametrize(
    ("proto", "module"),
    [
        ("a/b/c.proto", "a.b.c_pb2"),
        ("my-dir/my-file.proto", "my_dir.my_file_pb2"),
        ("top.proto", "top_pb2"),
    ],
)
def test_modules_are_laid_out_like_protoc_python_out(proto: str, module: str) -> None:
    assert module_name(proto, "_pb2") == module


def test_imports_are_aliased_only_on_clashes() -> None:
    imports = Imports()
    imports.use_name("typing", "Final")
    for module in ("a.x_pb2", "b.c.x_pb2", "y_pb2", "d.z_pb2"):
        imports.use_module(module)

    bound = imports.resolve(taken=["z_pb2"])

    assert bound == {
        "a.x_pb2": "a_dot_x__pb2",
        "b.c.x_pb2": "b_dot_c_dot_x__pb2",
        "y_pb2": "y_pb2",
        "d.z_pb2": "d_dot_z__pb2",
    }
    assert imports.statements() == (
        "from typing import Final\n"
        "\n"
        "import y_pb2\n"
        "from a import x_pb2 as a_dot_x__pb2\n"
        "from b.c import x_pb2 as b_dot_c_dot_x__pb2\n"
        "from d import z_pb2 as d_dot_z__pb2"
    )


def test_mangled_aliases_never_collide() -> None:
    modules = ["a.b_pb2", "a_b_pb2", "a_dot_b_pb2", "a.dot.b_pb2", "a__b_pb2"]
    assert len({mangled_alias(module) for module in modules}) == len(modules)


def test_runtime_members_read_from_source_are_those_of_the_classes() -> None:
    from_source = runtime_members_from_source()

    assert from_source is not None, "Agent/AgentClient are no longer plain classes"
    ordinary = {name for name in runtime_members_from_classes() if not is_dunder(name)}
    assert {name for name in from_source if not is_dunder(name)} == ordinary
    assert {"id", "publish_message", "agent_id", "sender", "_call"} <= ordinary
