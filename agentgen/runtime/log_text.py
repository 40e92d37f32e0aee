"""Identifiers from the wire made fit for a log line, and log-once bookkeeping.

Logs name messages by type, size and ids; never by content. Ids come from
other processes too, so they are clipped and escaped: nobody can write
megabytes or fake log lines into a log through them.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LOGGED_ID_LENGTH", "FirstTimes", "clip"]

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


class FirstTimes:
    """Which keys were seen before, for messages logged once per key.

    Bounded: past ``limit`` keys the memory is cleared, so keys chosen by
    other processes cannot pile up (a key may then be logged again).
    """

    __slots__ = ("_limit", "_seen")

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def first(self, key: str) -> bool:
        """Whether ``key`` is seen for the first time (remembering it)."""
        seen = self._seen
        if key in seen:
            return False
        if len(seen) >= self._limit:
            seen.clear()
        seen.add(key)
        return True
