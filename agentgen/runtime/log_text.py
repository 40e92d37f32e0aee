"""Identifiers from the wire, made fit for a log line.

Logs name messages by type, size and ids; never by content. Ids come from
other processes too, so they are clipped and escaped: nobody can write
megabytes or fake log lines into a log through them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LOGGED_ID_LENGTH", "clip"]

LOGGED_ID_LENGTH: Final = 120
"""Longest identifier (client id, topic type, request id) written to a log."""


def clip(text: str, limit: int = LOGGED_ID_LENGTH) -> str:
    """``text`` fit for a log line: escaped if not printable, cut at ``limit``."""
    if len(text) <= limit and text.isprintable():
        return text
    shown = text[:limit].encode("unicode_escape").decode("ascii")
    if len(text) > limit:
        return f"{shown}...({len(text)} characters)"
    return shown
