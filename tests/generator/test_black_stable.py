"""Generated code is exactly what black produces, for any comment text and names.

Contracts are built as CodeGeneratorRequests with random comments (quotes,
backslashes, control characters, unicode, long and blank lines, trailing
whitespace) and long names, and run through the plugin in this process.
"""

from __future__ import annotations

import ast
import keyword

import black
import pytest
from google.protobuf.compiler.plugin_pb2 import CodeGeneratorRequest
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agentgen.generator.annotations import AGENT_EXTENSION, TOPIC_EXTENSION
from agentgen.generator.docstrings import docstring_literal
from agentgen.generator.generate import generate
from agentgen.generator.naming import snake_case
from agentgen.generator.options import PluginOptions
from agentgen.generator.request import PluginRequest, parse_request
from agentgen.generator.source_info import (
    FILE_MESSAGE_TYPE,
    FILE_PACKAGE,
    FILE_SERVICE,
    SERVICE_METHOD,
)

TRICKY_PIECES = [
    '"',
    '""',
    '"""',
    "'''",
    "\\",
    "\\\\",
    "\\n",
    "\\x41",
    "\\N{DASH}",
    "\t",
    "  ",
    "\r",
    "\x0c",
    "\x00",
    "\x1c",
    "\x85",
    "\u2028",
    "\u00a0",
    "é",
    "漢字",
    "🚀",
    "`code`",
    "x" * 100,
]
comment_lines = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.lists(st.sampled_from(TRICKY_PIECES), max_size=6).map("".join),
    ),
    max_size=6,
)
comments = comment_lines.map("\n".join)
identifiers = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,70}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name)
)
topics = st.from_regex(r"[\w\-.:=]{1,90}", fullmatch=True)


@st.composite
def requests(draw: st.DrawFn) -> CodeGeneratorRequest:
    """A request for one file with messages, an agent, and comments everywhere."""
    message_names = draw(st.lists(identifiers, min_size=1, max_size=4, unique=True))
    rpc_names = draw(
        st.lists(
            identifiers,
            min_size=1,
            max_size=len(message_names),
            unique_by=lambda name: snake_case(name).rstrip("_"),
        )
    )
    file = FileDescriptorProto(
        name="deep/path/with-dash/contract.proto",
        package=draw(st.sampled_from(["", "p", "some.long.package.v1"])),
        dependency=["agentgen/options.proto"],
        syntax="proto3",
    )
    prefix = f".{file.package}." if file.package else "."
    for name in message_names:
        message = file.message_type.add(name=name)
        if draw(st.booleans()):
            message.options.Extensions[TOPIC_EXTENSION] = draw(topics)
    service = file.service.add(name=draw(identifiers))
    agent = service.options.Extensions[AGENT_EXTENSION]
    agent.type = draw(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,80}", fullmatch=True))
    agent.subscribe.extend(draw(st.lists(topics, max_size=3, unique=True)))
    agent.subscribe_prefix.extend(draw(st.lists(topics, max_size=2, unique=True)))
    for rpc_name, request in zip(rpc_names, message_names, strict=False):
        service.method.add(
            name=rpc_name,
            input_type=prefix + request,
            output_type=prefix + draw(st.sampled_from(message_names)),
        )
    paths = [(FILE_PACKAGE,), (FILE_SERVICE, 0)]
    paths += [(FILE_SERVICE, 0, SERVICE_METHOD, i) for i in range(len(rpc_names))]
    paths += [(FILE_MESSAGE_TYPE, i) for i in range(len(message_names))]
    for path in paths:
        location = file.source_code_info.location.add(path=path, span=[0, 0, 1])
        if draw(st.booleans()):
            location.leading_comments = draw(comments)
        else:
            location.trailing_comments = draw(comments)
    return CodeGeneratorRequest(
        file_to_generate=[file.name], proto_file=[file], source_file_descriptors=[file]
    )


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(requests())
def test_generated_code_is_black_stable_and_valid(
    request: CodeGeneratorRequest,
) -> None:
    response = generate(PluginRequest.from_message(request), PluginOptions()).response

    assert not response.error, response.error
    assert len(response.file) == 1
    content = response.file[0].content
    compile(content, response.file[0].name, "exec")
    assert black.format_str(content, mode=black.Mode()) == content


@pytest.mark.parametrize("length", [54, 55, 56, 90])
def test_long_agent_types_are_wrapped_as_black_wraps_them(length: int) -> None:
    """``AGENT_TYPE = "..."`` past 88 columns goes in parentheses (black does)."""
    file = FileDescriptorProto(
        name="contract.proto", dependency=["agentgen/options.proto"], syntax="proto3"
    )
    file.message_type.add(name="A")
    service = file.service.add(name="A")
    service.options.Extensions[AGENT_EXTENSION].type = "A" * length
    service.method.add(name="A", input_type=".A", output_type=".A")
    request = CodeGeneratorRequest(
        file_to_generate=[file.name], proto_file=[file], source_file_descriptors=[file]
    )
    response = generate(PluginRequest.from_message(request), PluginOptions()).response

    assert not response.error, response.error
    content = response.file[0].content
    compile(content, response.file[0].name, "exec")
    assert black.format_str(content, mode=black.Mode()) == content
    assert content.count("A" * length) == 2


# A docstring at each indentation the generator uses: module, class, method.
DOCSTRING_HOSTS = {
    "": "{literal}\n",
    "    ": "class C:\n    {literal}\n",
    "        ": "class C:\n    def f(self) -> None:\n        {literal}\n",
}


@settings(max_examples=300, deadline=None)
@given(comments, st.sampled_from(sorted(DOCSTRING_HOSTS)))
@example("0\n\t\r", "    ")  # a leading tab before a character that gets escaped
@example('"quoted"\n  and \\ends with a backslash\\', "        ")
def test_docstrings_keep_every_word_of_the_comment(comment: str, indent: str) -> None:
    literal = docstring_literal(comment, indent)

    if literal is None:
        assert not comment.split()
        return
    value = ast.literal_eval(literal)
    assert isinstance(value, str)
    assert value.split() == comment.split()
    source = DOCSTRING_HOSTS[indent].format(literal=literal)
    assert black.format_str(source, mode=black.Mode()) == source


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(requests())
def test_wire_level_request_parsing_matches_protobuf(
    request: CodeGeneratorRequest,
) -> None:
    # As protoc sends it: dependencies first in proto_file, and each file to
    # generate twice (proto_file and source_file_descriptors).
    request.parameter = "dotnet_names=ignore"
    del request.proto_file[:]
    request.proto_file.add(name="dep/only.proto", package="dep")
    request.proto_file.add().CopyFrom(request.source_file_descriptors[0])

    parsed = parse_request(request.SerializeToString())

    assert parsed == PluginRequest.from_message(request)
    assert list(parsed.files) == ["dep/only.proto", request.file_to_generate[0]]
