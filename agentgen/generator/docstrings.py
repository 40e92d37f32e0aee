"""Docstring literals from .proto comments, in the exact form black gives them.

The plugin does not run black (too slow for large contract sets), so this module
reproduces black's docstring normalisation (``black/linegen.py``,
``visit_STRING`` and ``fix_multiline_docstring``): the first line stripped, the
other lines dedented together (PEP 257) and re-indented, trailing whitespace
removed, and the closing quotes of a multi-line docstring on their own line.
Characters that would change the meaning or the line structure of the source
(backslashes, ``\"\"\"``, control and line-separator characters) are escaped.
"""

from __future__ import annotations

import unicodedata

_QUOTES = '"""'
_ESCAPED_QUOTES = '\\"\\"\\"'
_TAB_WIDTH = 4
# Characters that str.splitlines() or the tokenizer treat specially, and any
# control character: written as escapes so a comment can never break the source.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})


def _escape_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char != "\t" and unicodedata.category(char) in _ESCAPED_CATEGORIES:
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def _escape(line: str) -> str:
    if line.isascii() and line.isprintable() and "\\" not in line:
        escaped = line
    else:
        escaped = "".join(_escape_char(char) for char in line)
    return escaped.replace(_QUOTES, _ESCAPED_QUOTES)


def _expand_leading_tabs(line: str) -> str:
    stripped = line.lstrip()
    if not stripped or stripped == line:
        return line
    leading = line[: len(line) - len(stripped)]
    return leading.expandtabs(_TAB_WIDTH) + stripped


def _dedent(lines: list[str]) -> list[str]:
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    common = min(indents, default=0)
    return [line[common:] for line in lines]


def _comment_lines(comment: str) -> list[str]:
    """Split a comment into escaped lines, without surrounding blank lines."""
    raw = comment.replace("\r\n", "\n").split("\n")
    lines = [_expand_leading_tabs(_escape(line)).rstrip() for line in raw]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def docstring_literal(text: str, indent: str) -> str | None:
    """Return ``text`` as a black-stable docstring literal placed at ``indent``.

    The literal's first line carries no indentation (the template places it);
    continuation lines carry ``indent``. Returns None when ``text`` has no
    visible content.
    """
    lines = _comment_lines(text)
    if not lines:
        return None
    first = lines[0].strip()
    rest = _dedent(lines[1:])
    if first.startswith('"'):
        first = " " + first
    if not rest:
        if first.endswith('"'):
            first += " "
        return _QUOTES + first + _QUOTES
    body = [indent + line if line else "" for line in rest]
    return "\n".join([_QUOTES + first, *body, indent + _QUOTES])
