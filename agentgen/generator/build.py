"""Builds the template model of one generated module from its checked contract."""

from __future__ import annotations

from collections.abc import Callable

from agentgen.generator.contracts import AgentContract, FileContract
from agentgen.generator.docstrings import docstring_literal
from agentgen.generator.handlers import HandlerContract
from agentgen.generator.imports import Imports, isort_key
from agentgen.generator.layout import INDENT, string_literal
from agentgen.generator.model import (
    AgentModel,
    HandlerModel,
    ModuleModel,
    TopicModel,
)
from agentgen.generator.runtime_names import (
    AGENT_IMPORTS,
    AGENT_PLAIN_IMPORTS,
    MODULE_IMPORTS,
    MODULE_LEVEL_NAMES,
    agent_class_names,
)
from agentgen.generator.source_info import (
    FILE_PACKAGE,
    FILE_SYNTAX,
    SourceIndex,
)
from agentgen.generator.type_index import MessageInfo

_METHOD_INDENT = INDENT * 2
TypeRef = Callable[[MessageInfo], str]


def _docstring(comment: str, default: str, indent: str) -> str:
    literal = docstring_literal(comment, indent) or docstring_literal(default, indent)
    if literal is None:
        raise ValueError(f"default docstring {default!r} is empty")
    return literal


def _collect_imports(contract: FileContract) -> Imports:
    imports = Imports()
    for module, name in MODULE_IMPORTS:
        imports.use_name(module, name)
    for info in contract.messages:
        imports.use_module(info.module)
    if contract.agents:
        for module, name in AGENT_IMPORTS:
            imports.use_name(module, name)
        for module in AGENT_PLAIN_IMPORTS:
            imports.use_plain(module)
    for agent in contract.agents:
        for handler in agent.handlers:
            imports.use_module(handler.request.module)
            if not handler.response.is_empty:
                imports.use_module(handler.response.module)
    return imports


def build_module(
    contract: FileContract, source: SourceIndex, version: str
) -> ModuleModel:
    """The model of the ``_agents`` module generated for one .proto file."""
    imports = _collect_imports(contract)
    class_names = [
        name for agent in contract.agents for name in agent_class_names(agent.service)
    ]
    bound = imports.resolve([*MODULE_LEVEL_NAMES, *class_names])

    def type_ref(info: MessageInfo) -> str:
        return f"{bound[info.module]}.{info.class_path}"

    file_name = contract.file.name
    module_comment = source.first_comment([(FILE_PACKAGE,), (FILE_SYNTAX,)])
    exports = sorted(["SERIALIZERS", "TOPICS", *class_names], key=isort_key)
    return ModuleModel(
        version=version,
        source_file=string_literal(file_name)[1:-1],
        docstring=_docstring(
            module_comment, f"Agents and serializers for {file_name}.", ""
        ),
        imports=imports.statements(),
        messages=tuple(type_ref(info) for info in contract.messages),
        topics=tuple(
            TopicModel(type_ref(info), string_literal(topic))
            for info, topic in contract.topics
        ),
        agents=tuple(
            _build_agent(agent, source, type_ref) for agent in contract.agents
        ),
        exports=tuple(map(string_literal, exports)),
    )


def _build_agent(
    agent: AgentContract, source: SourceIndex, type_ref: TypeRef
) -> AgentModel:
    base_name, client_name = agent_class_names(agent.service)
    comment = source.comment(agent.source_path)
    return AgentModel(
        base_name=base_name,
        client_name=client_name,
        base_docstring=_docstring(
            comment,
            f"Handlers of the {agent.full_name} agent: subclass it and implement "
            "each handler.",
            INDENT,
        ),
        client_docstring=_docstring(
            comment, f"Typed RPC client of the {agent.full_name} agent.", INDENT
        ),
        agent_type=string_literal(agent.agent_type),
        topic_subscriptions=tuple(map(string_literal, agent.topic_subscriptions)),
        prefix_subscriptions=tuple(map(string_literal, agent.prefix_subscriptions)),
        handlers=tuple(
            _build_handler(handler, source, type_ref) for handler in agent.handlers
        ),
    )


def _build_handler(
    handler: HandlerContract, source: SourceIndex, type_ref: TypeRef
) -> HandlerModel:
    request = handler.request.full_name
    response = handler.response.full_name
    returns = not handler.response.is_empty
    if returns:
        handler_default = f"Handle a {request} message; return a {response}."
        client_default = f"Send a {request} to the agent; return its {response}."
    else:
        handler_default = f"Handle a {request} message."
        client_default = f"Send a {request} to the agent and wait until it is handled."
    comment = source.comment(handler.source_path)
    return HandlerModel(
        name=handler.method,
        name_literal=string_literal(handler.method),
        request=type_ref(handler.request),
        response=type_ref(handler.response) if returns else "None",
        returns=returns,
        handler_docstring=_docstring(comment, handler_default, _METHOD_INDENT),
        client_docstring=_docstring(comment, client_default, _METHOD_INDENT),
    )
