"""The agent contracts of a .proto file, read from its descriptor and checked.

Every problem is reported to :class:`Diagnostics` with the file, line and
element at fault and what to change; reading goes on so that one run reports
every problem at once.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf.descriptor_pb2 import (
    FileDescriptorProto,
    MethodDescriptorProto,
    ServiceDescriptorProto,
)

from agentgen.generator.annotations import (
    OPTIONS_FILE,
    AgentOptions,
    agent_options,
    has_undecoded_options,
    message_topic,
)
from agentgen.generator.diagnostics import Diagnostic, Diagnostics
from agentgen.generator.naming import (
    PB2_SUFFIX,
    is_importable_module,
    module_name,
    snake_case,
)
from agentgen.generator.options import DotnetNames, PluginOptions
from agentgen.generator.reserved import python_method_name
from agentgen.generator.runtime_names import agent_class_names, fixed_names
from agentgen.generator.source_info import (
    FILE_PACKAGE,
    FILE_SERVICE,
    MESSAGE_OPTIONS,
    SERVICE_METHOD,
    SERVICE_OPTIONS,
    Path,
    SourceIndex,
)
from agentgen.generator.type_index import MessageInfo, TypeIndex

# AutoGen's own checks (autogen_core AgentType / TopicId), and .NET's AgentId.
_AGENT_TYPE = re.compile(r"[\w\-\.]+")
_TOPIC_TYPE = re.compile(r"[\w\-\.\:\=]+")
_DOTNET_AGENT_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_AGENT_TYPE_CHARS = "letters, digits, '_', '-' and '.'"
_TOPIC_TYPE_CHARS = "letters, digits, '_', '-', '.', ':' and '='"
DEFAULT_TOPIC_TYPE = "default"


@dataclass(frozen=True)
class HandlerContract:
    """One rpc of an agent service: a handler of its request type."""

    rpc: str
    method: str
    request: MessageInfo
    response: MessageInfo
    source_path: Path


@dataclass(frozen=True)
class AgentContract:
    """One service annotated with ``(agentgen.agent)``: one agent type."""

    service: str
    full_name: str
    file: str
    source_path: Path
    agent_type: str
    topic_subscriptions: tuple[str, ...]
    prefix_subscriptions: tuple[str, ...]
    handlers: tuple[HandlerContract, ...]


@dataclass(frozen=True)
class FileContract:
    """What one generated module is made of."""

    file: FileDescriptorProto
    messages: tuple[MessageInfo, ...]
    topics: tuple[tuple[MessageInfo, str], ...]
    agents: tuple[AgentContract, ...]

    @property
    def is_empty(self) -> bool:
        """Whether the file defines neither messages nor agents."""
        return not self.messages and not self.agents


class _Reporter:
    """Turns problems at a source path of one file into diagnostics."""

    def __init__(
        self,
        file: str,
        source: SourceIndex,
        diagnostics: Diagnostics,
        options: PluginOptions,
    ) -> None:
        self.file = file
        self.source = source
        self.diagnostics = diagnostics
        self.options = options

    def _diagnostic(
        self, path: Path, subject: str, problem: str, fix: str
    ) -> Diagnostic:
        return Diagnostic(self.file, self.source.position(path), subject, problem, fix)

    def error(self, path: Path, subject: str, problem: str, fix: str) -> None:
        self.diagnostics.error(self._diagnostic(path, subject, problem, fix))

    def dotnet_name(self, path: Path, subject: str, problem: str, fix: str) -> None:
        """A name .NET agents cannot use: a warning, an error or nothing."""
        policy = self.options.dotnet_names
        if policy is DotnetNames.ERROR:
            self.error(path, subject, problem, fix)
        elif policy is DotnetNames.WARN:
            self.diagnostics.warn(self._diagnostic(path, subject, problem, fix))


def read_file_contract(
    file: FileDescriptorProto,
    types: TypeIndex,
    source: SourceIndex,
    diagnostics: Diagnostics,
    options: PluginOptions,
) -> FileContract:
    """Read and check the messages, topics and agents of one file to generate."""
    report = _Reporter(file.name, source, diagnostics, options)
    _check_module_name(file, report)
    messages = types.messages_of(file.name)
    for info in messages:
        _check_message_name(info, report)
    topics = tuple(_read_topics(messages, report))
    agents = tuple(
        agent
        for index, service in enumerate(file.service)
        if (agent := _read_agent(file, index, service, types, report)) is not None
    )
    if not topics and not agents:
        _check_options_decoded(file, messages, report)
    return FileContract(file, messages, topics, agents)


def declared_agent_types(file: FileDescriptorProto) -> Iterator[tuple[str, str, Path]]:
    """(service name, agent type, source path) of each agent service of a file."""
    for index, service in enumerate(file.service):
        options = agent_options(service)
        if options is not None:
            yield service.name, options.type or service.name, (FILE_SERVICE, index)


def _check_module_name(file: FileDescriptorProto, report: _Reporter) -> None:
    module = module_name(file.name, PB2_SUFFIX)
    if not is_importable_module(module):
        report.error(
            (FILE_PACKAGE,),
            "",
            f"the file's Python module would be {module}, which cannot be imported",
            "rename the file and its directories to valid Python identifiers",
        )


def _check_message_name(info: MessageInfo, report: _Reporter) -> None:
    if keyword.iskeyword(info.descriptor.name):
        report.error(
            info.source_path,
            f"message {info.full_name}",
            f"{info.descriptor.name!r} is a Python keyword, so generated code "
            "cannot refer to the message class",
            "rename the message",
        )


def _read_topics(
    messages: tuple[MessageInfo, ...], report: _Reporter
) -> Iterator[tuple[MessageInfo, str]]:
    for info in messages:
        topic = message_topic(info.descriptor)
        if topic is None:
            continue
        path = (*info.source_path, MESSAGE_OPTIONS)
        subject = f"message {info.full_name}"
        if _valid_topic(topic, path, subject, "(agentgen.topic)", report):
            yield info, topic


def _valid_topic(
    topic: str, path: Path, subject: str, option: str, report: _Reporter
) -> bool:
    if _TOPIC_TYPE.fullmatch(topic):
        return True
    if not topic:
        report.error(path, subject, "the topic type is empty", f"set {option}")
    else:
        report.error(
            path,
            subject,
            f"topic type {topic!r} would be rejected by AutoGen",
            f"use only {_TOPIC_TYPE_CHARS} in {option}",
        )
    return False


def _read_agent(
    file: FileDescriptorProto,
    index: int,
    service: ServiceDescriptorProto,
    types: TypeIndex,
    report: _Reporter,
) -> AgentContract | None:
    options = agent_options(service)
    if options is None:
        return None
    path: Path = (FILE_SERVICE, index)
    subject = f"service {service.name}"
    _check_class_names(service.name, path, subject, report)
    agent_type = _read_agent_type(options, service.name, path, report)
    topics = _read_subscriptions(options, path, subject, report)
    prefixes = _read_prefixes(options, path, subject, report)
    handlers = _read_handlers(service, path, types, report)
    return AgentContract(
        service=service.name,
        full_name=f"{file.package}.{service.name}" if file.package else service.name,
        file=file.name,
        source_path=path,
        agent_type=agent_type,
        topic_subscriptions=topics,
        prefix_subscriptions=prefixes,
        handlers=handlers,
    )


def _check_class_names(
    service: str, path: Path, subject: str, report: _Reporter
) -> None:
    for class_name in agent_class_names(service):
        if class_name in fixed_names():
            report.error(
                path,
                subject,
                f"the generated class {class_name} would clash with the name "
                f"{class_name} that generated modules import or define",
                f"rename the service (for example to {service}Service)",
            )


def _read_agent_type(
    options: AgentOptions, service: str, path: Path, report: _Reporter
) -> str:
    agent_type = options.type or service
    option_path = (*path, SERVICE_OPTIONS)
    subject = f"service {service}"
    if not _AGENT_TYPE.fullmatch(agent_type):
        report.error(
            option_path,
            subject,
            f"agent type {agent_type!r} would be rejected by AutoGen",
            f"use only {_AGENT_TYPE_CHARS} in (agentgen.agent).type",
        )
    elif not _DOTNET_AGENT_TYPE.fullmatch(agent_type):
        report.dotnet_name(
            option_path,
            subject,
            f"agent type {agent_type!r} is valid for AutoGen's Python runtime "
            "but .NET agents cannot address it (.NET allows "
            "^[A-Za-z_][A-Za-z0-9_]*$)",
            "use only ASCII letters, digits and '_' in (agentgen.agent).type "
            "if .NET agents must reach it",
        )
    return agent_type


def _read_subscriptions(
    options: AgentOptions, path: Path, subject: str, report: _Reporter
) -> tuple[str, ...]:
    option_path = (*path, SERVICE_OPTIONS)
    topics = list(options.subscribe)
    if options.default_subscription:
        topics.append(DEFAULT_TOPIC_TYPE)
    valid: list[str] = []
    for topic in topics:
        if not _valid_topic(
            topic, option_path, subject, "(agentgen.agent).subscribe", report
        ):
            continue
        if topic in valid:
            report.error(
                option_path,
                subject,
                f"topic type {topic!r} is subscribed to twice",
                "list each topic type once (default_subscription already "
                f"subscribes to {DEFAULT_TOPIC_TYPE!r})",
            )
            continue
        valid.append(topic)
    return tuple(valid)


def _read_prefixes(
    options: AgentOptions, path: Path, subject: str, report: _Reporter
) -> tuple[str, ...]:
    option_path = (*path, SERVICE_OPTIONS)
    valid: list[str] = []
    for prefix in options.subscribe_prefix:
        if not prefix:
            report.error(
                option_path,
                subject,
                "subscribe_prefix is empty, which would match every topic type",
                "give a non-empty prefix in (agentgen.agent).subscribe_prefix",
            )
        elif not _TOPIC_TYPE.fullmatch(prefix):
            report.error(
                option_path,
                subject,
                f"subscribe_prefix {prefix!r} can never match a topic type "
                "AutoGen accepts",
                f"use only {_TOPIC_TYPE_CHARS} in (agentgen.agent).subscribe_prefix",
            )
        elif prefix in valid:
            report.error(
                option_path,
                subject,
                f"subscribe_prefix {prefix!r} is listed twice",
                "list each prefix once",
            )
        else:
            valid.append(prefix)
    return tuple(valid)


def _streaming_kind(method: MethodDescriptorProto) -> str:
    if method.client_streaming and method.server_streaming:
        return "bidirectional streaming"
    if method.client_streaming:
        return "client streaming"
    if method.server_streaming:
        return "server streaming"
    return ""


def _read_handlers(
    service: ServiceDescriptorProto,
    service_path: Path,
    types: TypeIndex,
    report: _Reporter,
) -> tuple[HandlerContract, ...]:
    handlers: list[HandlerContract] = []
    by_request: dict[str, HandlerContract] = {}
    by_method: dict[str, HandlerContract] = {}
    for index, method in enumerate(service.method):
        path = (*service_path, SERVICE_METHOD, index)
        subject = f"service {service.name}, rpc {method.name}"
        streaming = _streaming_kind(method)
        if streaming:
            report.error(
                path,
                subject,
                f"the rpc is {streaming}, but an agent handles one message at "
                "a time",
                "remove 'stream' from the rpc, or move it to a service without "
                "(agentgen.agent)",
            )
            continue
        handler = HandlerContract(
            rpc=method.name,
            method=python_method_name(snake_case(method.name)),
            request=types.message(method.input_type),
            response=types.message(method.output_type),
            source_path=path,
        )
        if not _check_handler_types(handler, subject, report):
            continue
        earlier = by_request.get(handler.request.full_name)
        if earlier is not None:
            report.error(
                path,
                subject,
                f"{handler.request.full_name} is already handled by rpc "
                f"{earlier.rpc}; an agent dispatches on the message type, so one "
                "type can have only one handler",
                "give each rpc of the service its own request message type",
            )
            continue
        clash = by_method.get(handler.method)
        if clash is not None:
            report.error(
                path,
                subject,
                f"its Python method name {handler.method!r} is already taken by "
                f"rpc {clash.rpc}",
                "rename one of the two rpcs",
            )
            continue
        by_request[handler.request.full_name] = handler
        by_method[handler.method] = handler
        handlers.append(handler)
    return tuple(handlers)


def _check_handler_types(
    handler: HandlerContract, subject: str, report: _Reporter
) -> bool:
    for info in (handler.request, handler.response):
        if not is_importable_module(info.module):
            report.error(
                handler.source_path,
                subject,
                f"{info.full_name} lives in {info.file}, whose Python module "
                f"{info.module} cannot be imported",
                f"rename {info.file} and its directories to valid Python identifiers",
            )
            return False
    return True


def _check_options_decoded(
    file: FileDescriptorProto, messages: tuple[MessageInfo, ...], report: _Reporter
) -> None:
    """Refuse a file whose agentgen annotations cannot be decoded.

    That happens when the ``agentgen/options.proto`` protoc found is not the one
    this plugin ships (different field numbers): nothing would be generated for
    the annotations, silently.
    """
    if OPTIONS_FILE not in file.dependency:
        return
    candidates: list[tuple[Path, str, bool]] = [
        (
            (FILE_SERVICE, index),
            f"service {service.name}",
            has_undecoded_options(service.options),
        )
        for index, service in enumerate(file.service)
    ]
    candidates.extend(
        (
            info.source_path,
            f"message {info.full_name}",
            has_undecoded_options(info.descriptor.options),
        )
        for info in messages
    )
    for path, subject, undecoded in candidates:
        if undecoded:
            report.error(
                path,
                subject,
                f"its options could not be decoded: the {OPTIONS_FILE} that protoc "
                "read is not the one protoc-gen-agentgen ships",
                "pass the directory printed by `agentgen protos-path` as the "
                f"first -I, and do not vendor your own copy of {OPTIONS_FILE}",
            )
            return
