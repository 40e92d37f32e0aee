"""From a parsed CodeGeneratorRequest to a CodeGeneratorResponse."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf.compiler.plugin_pb2 import CodeGeneratorResponse
from google.protobuf.descriptor_pb2 import (
    EDITION_2024,
    EDITION_PROTO2,
    FileDescriptorProto,
)

from agentgen import __version__
from agentgen.generator.annotations import agent_options
from agentgen.generator.build import build_module
from agentgen.generator.contracts import (
    FileContract,
    declared_agent_types,
    read_file_contract,
)
from agentgen.generator.diagnostics import Diagnostic, Diagnostics
from agentgen.generator.naming import AGENTS_SUFFIX, module_file, module_name
from agentgen.generator.options import PluginOptions
from agentgen.generator.render import render_module
from agentgen.generator.request import PluginRequest
from agentgen.generator.source_info import Path, SourceIndex
from agentgen.generator.type_index import TypeIndex

SUPPORTED_FEATURES = (
    CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    | CodeGeneratorResponse.FEATURE_SUPPORTS_EDITIONS
)


@dataclass(frozen=True)
class Generation:
    """The response for protoc and the warnings for the user."""

    response: CodeGeneratorResponse
    warnings: str


def new_response() -> CodeGeneratorResponse:
    """An empty response that declares what the plugin supports."""
    return CodeGeneratorResponse(
        supported_features=SUPPORTED_FEATURES,
        minimum_edition=EDITION_PROTO2,
        maximum_edition=EDITION_2024,
    )


def agent_services(file: FileDescriptorProto) -> list[int]:
    """The indexes of the file's services annotated with ``(agentgen.agent)``."""
    return [
        index
        for index, service in enumerate(file.service)
        if agent_options(service) is not None
    ]


def generate(request: PluginRequest, options: PluginOptions) -> Generation:
    """Check every file to generate, then generate them if nothing is wrong."""
    response = new_response()
    files = request.files
    types = TypeIndex(files.values())
    diagnostics = Diagnostics()
    sources: dict[str, SourceIndex] = {}
    contracts: list[FileContract] = []
    for name in request.file_to_generate:
        sources[name] = SourceIndex(files[name], agent_services(files[name]))
        contracts.append(
            read_file_contract(files[name], types, sources[name], diagnostics, options)
        )
    _check_unique_agent_types(files, contracts, sources, diagnostics)
    if diagnostics.errors:
        response.error = diagnostics.error_text()
        return Generation(response, diagnostics.warning_text())
    for contract in contracts:
        if contract.is_empty:
            continue
        name = contract.file.name
        model = build_module(contract, sources[name], __version__)
        response.file.add(
            name=module_file(module_name(name, AGENTS_SUFFIX)),
            content=render_module(model),
        )
    return Generation(response, diagnostics.warning_text())


def _agent_types(
    files: dict[str, FileDescriptorProto], contracts: list[FileContract]
) -> Iterator[tuple[str, str, str, Path]]:
    """(file, service, agent type, path) of every agent of the compilation."""
    checked = {contract.file.name: contract for contract in contracts}
    for name, file in files.items():
        contract = checked.get(name)
        if contract is None:
            for service, agent_type, path in declared_agent_types(file):
                yield name, service, agent_type, path
        else:
            for agent in contract.agents:
                yield name, agent.service, agent.agent_type, agent.source_path


def _check_unique_agent_types(
    files: dict[str, FileDescriptorProto],
    contracts: list[FileContract],
    sources: dict[str, SourceIndex],
    diagnostics: Diagnostics,
) -> None:
    """Refuse two agent services of one compilation with the same agent type."""
    generated = {contract.file.name for contract in contracts}
    seen: dict[str, tuple[str, str, Path]] = {}
    for name, service, agent_type, path in _agent_types(files, contracts):
        earlier = seen.setdefault(agent_type, (name, service, path))
        if earlier == (name, service, path):
            continue
        earlier_file, earlier_service, earlier_path = earlier
        if name not in generated and earlier_file not in generated:
            continue
        source = sources.get(name) or SourceIndex(files[name])
        earlier_source = sources.get(earlier_file) or SourceIndex(files[earlier_file])
        where = earlier_file
        earlier_position = earlier_source.position(earlier_path)
        if earlier_position is not None:
            where += f":{earlier_position.line}:{earlier_position.column}"
        diagnostics.error(
            Diagnostic(
                name,
                source.position(path),
                f"service {service}",
                f"agent type {agent_type!r} is already the type of service "
                f"{earlier_service} ({where})",
                "give one of them another agent type with (agentgen.agent).type",
            )
        )
