"""Comments and positions from a file's SourceCodeInfo, indexed once per file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf.descriptor_pb2 import FileDescriptorProto, SourceCodeInfo

Path = tuple[int, ...]

# Field numbers of descriptor.proto, used to build SourceCodeInfo paths.
FILE_PACKAGE = 2
FILE_MESSAGE_TYPE = 4
FILE_SERVICE = 6
FILE_SYNTAX = 12
FILE_EDITION = 14
MESSAGE_NESTED_TYPE = 3
MESSAGE_OPTIONS = 7
SERVICE_METHOD = 2
SERVICE_OPTIONS = 3


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a .proto file."""

    line: int
    column: int


class SourceIndex:
    """The locations of one file, keyed by their path; built in one pass."""

    def __init__(self, file: FileDescriptorProto) -> None:
        self._locations: dict[Path, SourceCodeInfo.Location] = {
            tuple(location.path): location
            for location in file.source_code_info.location
        }

    def _find(self, path: Path) -> SourceCodeInfo.Location | None:
        return self._locations.get(path)

    def comment(self, path: Path) -> str:
        """The leading comment of an element, else its trailing comment, else ''.

        Detached comments are ignored.
        """
        location = self._find(path)
        if location is None:
            return ""
        return location.leading_comments or location.trailing_comments

    def first_comment(self, paths: Sequence[Path]) -> str:
        """The comment of the first element of ``paths`` that has one."""
        for path in paths:
            comment = self.comment(path)
            if comment.strip():
                return comment
        return ""

    def position(self, path: Path) -> Position | None:
        """The start of the element at ``path``, or of its nearest recorded parent.

        Returns None when the file carries no source information for it.
        """
        for length in range(len(path), 0, -1):
            location = self._find(path[:length])
            if location is not None and len(location.span) >= 3:
                return Position(location.span[0] + 1, location.span[1] + 1)
        return None
