"""The agent contracts of a .proto file, read from its descriptor and checked.

Every problem is reported to :class:`Diagnostics` with the file, line and
element at fault and what to change; reading goes on so that one run reports
every problem at once.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf.descriptor_pb2 import FileDescriptorProto, ServiceDescriptorProto

from agentgen.autogen_names import (
    AGENT_TYPE_CHARS,
    DEFAULT_TOPIC_TYPE,
    DOTNET_AGENT_TYPE_CHARS,
    TOPIC_TYPE_CHARS,
    is_dotnet_agent_type,
    is_valid_agent_type,
    is_valid_topic_type,
)
from agentgen.generator.annotations import (
    OPTIONS_FILE,
    AgentOptions,
    agent_options,
    has_undecoded_options,
    message_topic,
)
from agentgen.generator.diagnostics import Diagnostics
from agentgen.generator.handlers import HandlerContract, read_handlers
from agentgen.generator.naming import PB2_SUFFIX, is_importable_module, module_name
from agentgen.generator.options import PluginOptions
from agentgen.generator.reporter import Reporter
from agentgen.generator.runtime_names import agent_class_names, fixed_names
from agentgen.generator.source_info import (
    FILE_PACKAGE,
    FILE_SERVICE,
    MESSAGE_OPTIONS,
    SERVICE_OPTIONS,
    Path,
    SourceIndex,
)
from agentgen.generator.type_index import MessageInfo, TypeIndex


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


def read_file_contract(
    file: FileDescriptorProto,
    types: TypeIndex,
    source: SourceIndex,
    diagnostics: Diagnostics,
    options: PluginOptions,
) -> FileContract:
    """Read and check the messages, topics and agents of one file to generate."""
    report = Reporter(file.name, source, diagnostics, options)
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


def _check_module_name(file: FileDescriptorProto, report: Reporter) -> None:
    module = module_name(file.name, PB2_SUFFIX)
    if not is_importable_module(module):
        report.error(
            (FILE_PACKAGE,),
            "",
            f"the file's Python module would be {module}, which cannot be imported",
            "rename the file and its directories to valid Python identifiers",
        )


def _check_message_name(info: MessageInfo, report: Reporter) -> None:
    if keyword.iskeyword(info.descriptor.name):
        report.error(
            info.source_path,
            f"message {info.full_name}",
            f"{info.descriptor.name!r} is a Python keyword, so generated code "
            "cannot refer to the message class",
            "rename the message",
        )


def _read_topics(
    messages: tuple[MessageInfo, ...], report: Reporter
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
    topic: str, path: Path, subject: str, option: str, report: Reporter
) -> bool:
    if is_valid_topic_type(topic):
        return True
    if not topic:
        report.error(path, subject, "the topic type is empty", f"set {option}")
    else:
        report.error(
            path,
            subject,
            f"topic type {topic!r} would be rejected by AutoGen",
            f"use only {TOPIC_TYPE_CHARS} in {option}",
        )
    return False


def _read_agent(
    file: FileDescriptorProto,
    index: int,
    service: ServiceDescriptorProto,
    types: TypeIndex,
    report: Reporter,
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
    handlers = read_handlers(service, path, types, report)
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
    service: str, path: Path, subject: str, report: Reporter
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
    options: AgentOptions, service: str, path: Path, report: Reporter
) -> str:
    agent_type = options.type or service
    option_path = (*path, SERVICE_OPTIONS)
    subject = f"service {service}"
    if not is_valid_agent_type(agent_type):
        report.error(
            option_path,
            subject,
            f"agent type {agent_type!r} would be rejected by AutoGen",
            f"use only {AGENT_TYPE_CHARS} in (agentgen.agent).type",
        )
    elif not is_dotnet_agent_type(agent_type):
        report.dotnet_name(
            option_path,
            subject,
            f"agent type {agent_type!r} is valid for AutoGen's Python runtime "
            "but .NET agents cannot address it (.NET allows "
            "^[A-Za-z_][A-Za-z0-9_]*$)",
            f"use only {DOTNET_AGENT_TYPE_CHARS} in (agentgen.agent).type "
            "if .NET agents must reach it",
        )
    return agent_type


def _read_subscriptions(
    options: AgentOptions, path: Path, subject: str, report: Reporter
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
    options: AgentOptions, path: Path, subject: str, report: Reporter
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
        elif not is_valid_topic_type(prefix):
            report.error(
                option_path,
                subject,
                f"subscribe_prefix {prefix!r} can never match a topic type "
                "AutoGen accepts",
                f"use only {TOPIC_TYPE_CHARS} in (agentgen.agent).subscribe_prefix",
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


def _check_options_decoded(
    file: FileDescriptorProto, messages: tuple[MessageInfo, ...], report: Reporter
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
