"""Line layout of bracketed code, in the form black keeps unchanged.

A bracketed construct is written on one line when it fits in the line length;
otherwise it is exploded to one item per line with a magic trailing comma,
which black (default mode) preserves as it is. Items may be nested constructs.
An assignment whose line is too long gets its value in parentheses on a line
of its own, as black writes it.
All code laid out here is ASCII (see :func:`string_literal`), so a line's width
is its length.
"""

from __future__ import annotations

from dataclasses import dataclass

LINE_LENGTH = 88
INDENT = "    "


@dataclass(frozen=True)
class Bracketed:
    """Code of the form ``head item, item, ... tail``, e.g. ``f(`` ... ``)``."""

    head: str
    items: tuple[Code, ...]
    tail: str
    is_tuple: bool = False

    def flat(self) -> str:
        """The construct on one line (a 1-tuple keeps its comma)."""
        joined = ", ".join(flat(item) for item in self.items)
        if self.is_tuple and len(self.items) == 1:
            joined += ","
        return self.head + joined + self.tail


Code = str | Bracketed


@dataclass(frozen=True)
class Assignment:
    """Code of the form ``target = value``, with a one-line ``value``.

    When the line is too long, black puts the value in parentheses on a line
    of its own.
    """

    target: str
    value: str


def flat(code: Code) -> str:
    """Return ``code`` written on one line."""
    return code if isinstance(code, str) else code.flat()


def render(code: Code | Assignment, indent: str = "", suffix: str = "") -> str:
    """Lay out ``code`` starting at ``indent``, followed on its line by ``suffix``.

    The first line is returned without ``indent`` (the caller places it);
    continuation lines carry their full indentation.
    """
    if isinstance(code, Assignment):
        return _render_assignment(code, indent, suffix)
    one_line = flat(code) + suffix
    fits = len(indent) + len(one_line) <= LINE_LENGTH
    if isinstance(code, str) or fits or not code.items:
        return one_line
    inner = indent + INDENT
    lines = [code.head]
    lines.extend(inner + render(item, inner, ",") for item in code.items)
    lines.append(indent + code.tail + suffix)
    return "\n".join(lines)


def _render_assignment(code: Assignment, indent: str, suffix: str) -> str:
    one_line = f"{code.target} = {code.value}{suffix}"
    if len(indent) + len(one_line) <= LINE_LENGTH:
        return one_line
    return f"{code.target} = (\n{indent}{INDENT}{code.value}\n{indent}){suffix}"


def string_literal(value: str) -> str:
    """Return an ASCII string literal for ``value``, quoted as black quotes it.

    Non-ASCII and unprintable characters become lowercase escapes; double
    quotes are preferred unless single quotes need fewer escapes.
    """
    quote = "'" if '"' in value and "'" not in value else '"'
    plain = value.isascii() and value.isprintable()
    if plain and quote not in value and "\\" not in value:
        return quote + value + quote
    return quote + "".join(_escape_char(char, quote) for char in value) + quote


def _escape_char(char: str, quote: str) -> str:
    code = ord(char)
    if char in (quote, "\\"):
        return "\\" + char
    if 0x20 <= code < 0x7F:
        return char
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
