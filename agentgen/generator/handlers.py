"""The handlers of an agent service: one per rpc, each checked."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.descriptor_pb2 import (
    MethodDescriptorProto,
    ServiceDescriptorProto,
)

from agentgen.generator.naming import is_importable_module, snake_case
from agentgen.generator.reporter import Reporter
from agentgen.generator.reserved import python_method_name
from agentgen.generator.source_info import SERVICE_METHOD, Path
from agentgen.generator.type_index import MessageInfo, TypeIndex


@dataclass(frozen=True)
class HandlerContract:
    """One rpc of an agent service: a handler of its request type."""

    rpc: str
    method: str
    request: MessageInfo
    response: MessageInfo
    source_path: Path


def _streaming_kind(method: MethodDescriptorProto) -> str:
    if method.client_streaming and method.server_streaming:
        return "bidirectional streaming"
    if method.client_streaming:
        return "client streaming"
    if method.server_streaming:
        return "server streaming"
    return ""


def read_handlers(
    service: ServiceDescriptorProto,
    service_path: Path,
    types: TypeIndex,
    report: Reporter,
) -> tuple[HandlerContract, ...]:
    """Read the rpcs of an agent service; report and skip those that cannot be."""
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
    handler: HandlerContract, subject: str, report: Reporter
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
