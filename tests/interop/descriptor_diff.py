"""Compare two ``FileDescriptorProto``s the way the wire sees them.

:func:`diff_files` walks messages (with nested messages and enums), fields,
oneofs, map entries, enums and services, and returns one readable line per
difference, naming the element by its full path. An empty list means the
files agree on everything that decides the wire format and the generated API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    EnumDescriptorProto,
    FieldDescriptorProto,
    FileDescriptorProto,
    MethodDescriptorProto,
    ServiceDescriptorProto,
)

__all__ = ["diff_files"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=_Named)


class _Differ:
    """Collects differences between an expected and an actual descriptor."""

    def __init__(self, expected_label: str, actual_label: str) -> None:
        self.expected_label = expected_label
        self.actual_label = actual_label
        self.differences: list[str] = []

    def value(self, path: str, what: str, expected: object, actual: object) -> None:
        if expected != actual:
            self.differences.append(
                f"{path}: {what} differs: {self.expected_label} {expected!r}, "
                f"{self.actual_label} {actual!r}"
            )

    def named(
        self,
        path: str,
        kind: str,
        expected: Sequence[N],
        actual: Sequence[N],
        compare: Callable[[str, N, N], None],
    ) -> None:
        """Pair elements by name; report missing/extra ones, compare the rest."""
        actual_by_name = {element.name: element for element in actual}
        expected_names = [element.name for element in expected]
        if set(expected_names) == actual_by_name.keys():
            self.value(path, f"{kind} order", expected_names, list(actual_by_name))
        for element in expected:
            element_path = f"{path}.{element.name}" if path else element.name
            counterpart = actual_by_name.get(element.name)
            if counterpart is None:
                self.differences.append(
                    f"{element_path}: {kind} missing in {self.actual_label}"
                )
            else:
                compare(element_path, element, counterpart)
        for name in sorted(actual_by_name.keys() - set(expected_names)):
            element_path = f"{path}.{name}" if path else name
            self.differences.append(
                f"{element_path}: {kind} only in {self.actual_label} "
                f"(not in {self.expected_label})"
            )


def _oneof_name(message: DescriptorProto, field: FieldDescriptorProto) -> str | None:
    if not field.HasField("oneof_index"):
        return None
    return message.oneof_decl[field.oneof_index].name


def _diff_enum(
    differ: _Differ,
    path: str,
    expected: EnumDescriptorProto,
    actual: EnumDescriptorProto,
) -> None:
    differ.value(
        path,
        "values",
        [(value.name, value.number) for value in expected.value],
        [(value.name, value.number) for value in actual.value],
    )


def _diff_message(
    differ: _Differ, path: str, expected: DescriptorProto, actual: DescriptorProto
) -> None:
    def diff_field(
        field_path: str, want: FieldDescriptorProto, got: FieldDescriptorProto
    ) -> None:
        differ.value(field_path, "number", want.number, got.number)
        differ.value(
            field_path,
            "type",
            FieldDescriptorProto.Type.Name(want.type),
            FieldDescriptorProto.Type.Name(got.type),
        )
        differ.value(field_path, "type name", want.type_name, got.type_name)
        differ.value(
            field_path,
            "label",
            FieldDescriptorProto.Label.Name(want.label),
            FieldDescriptorProto.Label.Name(got.label),
        )
        differ.value(
            field_path, "proto3_optional", want.proto3_optional, got.proto3_optional
        )
        differ.value(field_path, "json name", want.json_name, got.json_name)
        differ.value(
            field_path,
            "oneof",
            _oneof_name(expected, want),
            _oneof_name(actual, got),
        )

    differ.value(
        path, "map entry", expected.options.map_entry, actual.options.map_entry
    )
    differ.value(
        path,
        "oneofs",
        [oneof.name for oneof in expected.oneof_decl],
        [oneof.name for oneof in actual.oneof_decl],
    )
    differ.named(path, "field", expected.field, actual.field, diff_field)
    differ.named(
        path,
        "nested message",
        expected.nested_type,
        actual.nested_type,
        lambda p, e, a: _diff_message(differ, p, e, a),
    )
    differ.named(
        path,
        "nested enum",
        expected.enum_type,
        actual.enum_type,
        lambda p, e, a: _diff_enum(differ, p, e, a),
    )


def _diff_service(
    differ: _Differ,
    path: str,
    expected: ServiceDescriptorProto,
    actual: ServiceDescriptorProto,
) -> None:
    def diff_method(
        method_path: str, want: MethodDescriptorProto, got: MethodDescriptorProto
    ) -> None:
        differ.value(method_path, "input type", want.input_type, got.input_type)
        differ.value(method_path, "output type", want.output_type, got.output_type)
        differ.value(
            method_path,
            "client streaming",
            want.client_streaming,
            got.client_streaming,
        )
        differ.value(
            method_path,
            "server streaming",
            want.server_streaming,
            got.server_streaming,
        )

    differ.named(path, "method", expected.method, actual.method, diff_method)


def diff_files(
    expected: FileDescriptorProto,
    actual: FileDescriptorProto,
    *,
    expected_label: str = "expected",
    actual_label: str = "actual",
) -> list[str]:
    """Return every difference between two file descriptors, one line each.

    Compared: file name, package, syntax, imports; per message (recursively
    through nested messages) its fields' names, numbers, types, type names,
    labels, ``proto3_optional``, JSON names and oneof membership, its oneof
    names, whether it is a map entry, and its enums; per enum its values; per
    service its methods' input/output types and streaming flags.
    """
    differ = _Differ(expected_label, actual_label)
    prefix = expected.package
    differ.value(expected.name, "file name", expected.name, actual.name)
    differ.value(expected.name, "package", expected.package, actual.package)
    differ.value(expected.name, "syntax", expected.syntax, actual.syntax)
    differ.value(
        expected.name, "imports", list(expected.dependency), list(actual.dependency)
    )
    differ.named(
        prefix,
        "message",
        expected.message_type,
        actual.message_type,
        lambda p, e, a: _diff_message(differ, p, e, a),
    )
    differ.named(
        prefix,
        "enum",
        expected.enum_type,
        actual.enum_type,
        lambda p, e, a: _diff_enum(differ, p, e, a),
    )
    differ.named(
        prefix,
        "service",
        expected.service,
        actual.service,
        lambda p, e, a: _diff_service(differ, p, e, a),
    )
    return differ.differences
