"""Every message type of a compilation, indexed once by its full name."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from google.protobuf.descriptor_pb2 import DescriptorProto, FileDescriptorProto

from agentgen.generator.naming import PB2_SUFFIX, module_name
from agentgen.generator.source_info import (
    FILE_MESSAGE_TYPE,
    MESSAGE_NESTED_TYPE,
    Path,
)

EMPTY_TYPE = "google.protobuf.Empty"


@dataclass(frozen=True)
class MessageInfo:
    """Where a message type lives: its .proto file, ``_pb2`` module and class."""

    full_name: str
    file: str
    module: str
    class_path: str
    source_path: Path
    descriptor: DescriptorProto

    @property
    def is_map_entry(self) -> bool:
        """Whether protoc synthesised this type for a ``map<,>`` field."""
        return self.descriptor.options.map_entry

    @property
    def is_empty(self) -> bool:
        """Whether this is ``google.protobuf.Empty`` (a handler returning None)."""
        return self.full_name == EMPTY_TYPE


def file_messages(file: FileDescriptorProto) -> Iterator[MessageInfo]:
    """Every message of a file, nested ones included, in declaration order."""
    module = module_name(file.name, PB2_SUFFIX)
    prefix = f"{file.package}." if file.package else ""
    yield from _walk(file, module, prefix, "", file.message_type, (FILE_MESSAGE_TYPE,))


def _walk(
    file: FileDescriptorProto,
    module: str,
    name_prefix: str,
    class_prefix: str,
    messages: Iterable[DescriptorProto],
    path: Path,
) -> Iterator[MessageInfo]:
    for index, message in enumerate(messages):
        class_path = class_prefix + message.name
        message_path = (*path, index)
        yield MessageInfo(
            full_name=name_prefix + message.name,
            file=file.name,
            module=module,
            class_path=class_path,
            source_path=message_path,
            descriptor=message,
        )
        if message.nested_type:
            yield from _walk(
                file,
                module,
                f"{name_prefix}{message.name}.",
                f"{class_path}.",
                message.nested_type,
                (*message_path, MESSAGE_NESTED_TYPE),
            )


class TypeIndex:
    """Message types by full name (without the leading dot)."""

    def __init__(self, files: Iterable[FileDescriptorProto]) -> None:
        self._by_file: dict[str, tuple[MessageInfo, ...]] = {
            file.name: tuple(file_messages(file)) for file in files
        }
        self._messages: dict[str, MessageInfo] = {
            info.full_name: info for infos in self._by_file.values() for info in infos
        }

    def messages_of(self, file: str) -> tuple[MessageInfo, ...]:
        """The messages of one file, nested ones included, in declaration order."""
        return self._by_file[file]

    def message(self, type_name: str) -> MessageInfo:
        """Look up a type as descriptors spell it (``.pkg.Msg`` or ``pkg.Msg``)."""
        return self._messages[type_name.removeprefix(".")]
