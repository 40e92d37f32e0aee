"""Comments and positions from a file's SourceCodeInfo.

A large file has hundreds of thousands of locations, and reading them is the
plugin's most expensive step. So the locations the generator reads (the file's
``syntax`` and ``package`` statements, the agent services and their rpcs) are
indexed by path in one pass that stops as soon as they are all found; every
other location is indexed, also in one pass, only when an error must be located.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from google.protobuf.descriptor_pb2 import FileDescriptorProto, SourceCodeInfo

Path = tuple[int, ...]
Location = SourceCodeInfo.Location

# Field numbers of descriptor.proto, used to build SourceCodeInfo paths.
FILE_PACKAGE = 2
FILE_MESSAGE_TYPE = 4
FILE_SERVICE = 6
FILE_SYNTAX = 12  # also the path of an ``edition = "...";`` statement
MESSAGE_NESTED_TYPE = 3
MESSAGE_OPTIONS = 7
SERVICE_METHOD = 2
SERVICE_OPTIONS = 3

# ``syntax`` or ``edition`` must be the first statement: its location follows
# the whole-file location.
_SYNTAX_SLOTS = 2


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in a .proto file."""

    line: int
    column: int


def service_paths(index: int, methods: int) -> list[Path]:
    """The paths of a service and of each of its rpcs."""
    service: Path = (FILE_SERVICE, index)
    return [
        service,
        *((FILE_SERVICE, index, SERVICE_METHOD, m) for m in range(methods)),
    ]


class SourceIndex:
    """The locations of one file's elements, keyed by path."""

    def __init__(self, file: FileDescriptorProto, services: Iterable[int] = ()) -> None:
        """Index the file's statements and the services at ``services``."""
        self._locations = file.source_code_info.location
        self._indexed: dict[Path, Location] = {}
        self._all: dict[Path, Location] | None = None
        if self._locations:
            self._index_statements(bool(file.package))
            wanted = {
                path
                for index in services
                for path in service_paths(index, len(file.service[index].method))
            }
            self._index_backwards(wanted)

    def _index_statements(self, has_package: bool) -> None:
        for location in self._locations[:_SYNTAX_SLOTS]:
            if tuple(location.path) == (FILE_SYNTAX,):
                self._indexed[(FILE_SYNTAX,)] = location
        if not has_package:
            return
        for location in self._locations:
            path = location.path
            if len(path) == 1 and path[0] == FILE_PACKAGE:
                self._indexed[(FILE_PACKAGE,)] = location
                return

    def _index_backwards(self, wanted: set[Path]) -> None:
        """Find ``wanted`` paths from the end, where services usually are."""
        for location in reversed(self._locations):
            if not wanted:
                return
            path = location.path
            if len(path) in (2, 4) and path[0] == FILE_SERVICE:
                key = tuple(path)
                if key in wanted:
                    wanted.discard(key)
                    self._indexed[key] = location

    def _any(self, path: Path) -> Location | None:
        """Any location, from the full index built on first use."""
        found = self._indexed.get(path)
        if found is not None:
            return found
        if self._all is None:
            self._all = {tuple(location.path): location for location in self._locations}
        return self._all.get(path)

    def comment(self, path: Path) -> str:
        """The leading comment of an indexed element, else its trailing one.

        Only the file's statements and the services given at construction are
        indexed; detached comments are ignored.
        """
        location = self._indexed.get(path)
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
            location = self._any(path[:length])
            if location is not None and len(location.span) >= 3:
                return Position(location.span[0] + 1, location.span[1] + 1)
        return None
