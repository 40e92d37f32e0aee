"""Every message type of a compilation, indexed once by its full name."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from google.protobuf.descriptor_pb2 import DescriptorProto, FileDescriptorProto

from agentgen.generator.naming import PB2_SUFFIX, module_name
from agentgen.generator.source_info import (
    FILE_MESSAGE_TYPE,
    MESSAGE_NESTED_TYPE,
    Path,
)

EMPTY_TYPE = "google.protobuf.Empty"
_MAP_ENTRY_SUFFIX = "Entry"


class MessageInfo(NamedTuple):
    """Where a message type lives: its .proto file, ``_pb2`` module and class."""

    full_name: str
    file: str
    module: str
    class_path: str
    source_path: Path
    descriptor: DescriptorProto

    @property
    def is_empty(self) -> bool:
        """Whether this is ``google.protobuf.Empty`` (a handler returning None)."""
        return self.full_name == EMPTY_TYPE


def _is_map_entry(message: DescriptorProto) -> bool:
    """Whether protoc synthesised this type for a ``map<,>`` field.

    The name test first: reading ``options`` is much slower.
    """
    return message.name.endswith(_MAP_ENTRY_SUFFIX) and message.options.map_entry


def file_messages(file: FileDescriptorProto) -> list[MessageInfo]:
    """Every message of a file, nested ones included, in declaration order.

    Map entry types (protoc's synthetic ``XEntry`` messages) are left out.
    """
    found: list[MessageInfo] = []
    prefix = f"{file.package}." if file.package else ""
    _collect(
        found,
        file.name,
        module_name(file.name, PB2_SUFFIX),
        prefix,
        "",
        file.message_type,
        (FILE_MESSAGE_TYPE,),
    )
    return found


def _collect(
    found: list[MessageInfo],
    file: str,
    module: str,
    name_prefix: str,
    class_prefix: str,
    messages: Iterable[DescriptorProto],
    path: Path,
) -> None:
    for index, message in enumerate(messages):
        if _is_map_entry(message):
            continue
        name = message.name
        message_path = (*path, index)
        found.append(
            MessageInfo(
                name_prefix + name,
                file,
                module,
                class_prefix + name,
                message_path,
                message,
            )
        )
        nested = message.nested_type
        if nested:
            _collect(
                found,
                file,
                module,
                f"{name_prefix}{name}.",
                f"{class_prefix}{name}.",
                nested,
                (*message_path, MESSAGE_NESTED_TYPE),
            )


class TypeIndex:
    """Message types by full name (without the leading dot)."""

    def __init__(self, files: Iterable[FileDescriptorProto]) -> None:
        self._by_file: dict[str, list[MessageInfo]] = {
            file.name: file_messages(file) for file in files
        }
        self._messages: dict[str, MessageInfo] = {
            info.full_name: info for infos in self._by_file.values() for info in infos
        }

    def messages_of(self, file: str) -> tuple[MessageInfo, ...]:
        """The messages of one file, nested ones included, in declaration order."""
        return tuple(self._by_file[file])

    def message(self, type_name: str) -> MessageInfo:
        """Look up a type as descriptors spell it (``.pkg.Msg`` or ``pkg.Msg``)."""
        return self._messages[type_name.removeprefix(".")]
