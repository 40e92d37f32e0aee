"""The plugin's view of a CodeGeneratorRequest, with every file parsed once.

protoc (24+) sends each file to generate twice: in ``proto_file`` and, with
its source-retention options kept, in ``source_file_descriptors``. Both carry
the file's SourceCodeInfo, and parsing is the plugin's largest cost on big
contract sets, so :func:`parse_request` splits the request's top-level fields
at the wire level and parses only the source version of those files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from google.protobuf.compiler.plugin_pb2 import CodeGeneratorRequest
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from google.protobuf.message import DecodeError

from agentgen.varint import decode_varint

# Field numbers of CodeGeneratorRequest and FileDescriptorProto.
_FILE_TO_GENERATE = 1
_PARAMETER = 2
_PROTO_FILE = 15
_SOURCE_FILE_DESCRIPTORS = 17
_FILE_NAME = 1

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


@dataclass(frozen=True)
class PluginRequest:
    """What the generator reads from a request.

    ``files`` holds every file of the compilation in protoc's order
    (dependencies first), the source version of each file to generate.
    """

    file_to_generate: tuple[str, ...]
    parameter: str
    files: dict[str, FileDescriptorProto]

    @classmethod
    def from_message(cls, request: CodeGeneratorRequest) -> PluginRequest:
        """The view of an already parsed request."""
        files = {file.name: file for file in request.proto_file}
        for file in request.source_file_descriptors:
            files[file.name] = file
        return cls(tuple(request.file_to_generate), request.parameter, files)


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    """The varint at ``position`` and the next position; ``DecodeError`` if bad."""
    try:
        return decode_varint(data, position, len(data))
    except ValueError as error:
        raise DecodeError(str(error)) from None


def _fields(data: memoryview) -> Iterator[tuple[int, memoryview | None]]:
    """(field number, payload) of each top-level field; payload only if delimited."""
    position = 0
    while position < len(data):
        tag, position = _varint(data, position)
        number, wire_type = tag >> 3, tag & 7
        payload: memoryview | None = None
        if wire_type == _VARINT:
            _, position = _varint(data, position)
        elif wire_type == _FIXED64:
            position += 8
        elif wire_type == _FIXED32:
            position += 4
        elif wire_type == _LENGTH_DELIMITED:
            length, position = _varint(data, position)
            payload = data[position : position + length]
            position += length
        else:
            raise DecodeError(f"unsupported wire type {wire_type}")
        if position > len(data):
            raise DecodeError("truncated field")
        yield number, payload


def _file_name(data: memoryview) -> str:
    """The name of a serialized FileDescriptorProto, without parsing the rest."""
    for number, payload in _fields(data):
        if number == _FILE_NAME and payload is not None:
            return bytes(payload).decode("utf-8")
    return ""


def parse_request(data: bytes) -> PluginRequest:
    """Parse a serialized CodeGeneratorRequest, each file exactly once.

    Raises ``DecodeError`` when ``data`` is not a CodeGeneratorRequest.
    """
    generate: list[str] = []
    parameter = ""
    proto_files: list[memoryview] = []
    source_files: dict[str, FileDescriptorProto] = {}
    for number, payload in _fields(memoryview(data)):
        if payload is None:
            continue
        if number == _FILE_TO_GENERATE:
            generate.append(bytes(payload).decode("utf-8"))
        elif number == _PARAMETER:
            parameter = bytes(payload).decode("utf-8")
        elif number == _PROTO_FILE:
            proto_files.append(payload)
        elif number == _SOURCE_FILE_DESCRIPTORS:
            file = FileDescriptorProto.FromString(bytes(payload))
            source_files[file.name] = file
    files: dict[str, FileDescriptorProto] = {}
    for payload in proto_files:
        name = _file_name(payload)
        source = source_files.get(name)
        if source is None:
            source = FileDescriptorProto.FromString(bytes(payload))
        files[name] = source
    for name, file in source_files.items():
        files.setdefault(name, file)
    return PluginRequest(tuple(generate), parameter, files)
