"""Random UUIDs as text, without the :mod:`uuid` module, and cheap unique ids.

``uuid`` imports ``platform`` (a few milliseconds of a worker's cold start);
a runtime needs only ``str(uuid.uuid4())``, which this builds the same way.
"""

from __future__ import annotations

import itertools
import os

__all__ = ["IdSequence", "random_uuid"]


def random_uuid() -> str:
    """A random (version 4, RFC 4122 variant) UUID, as ``str(uuid.uuid4())``."""
    data = bytearray(os.urandom(16))
    data[6] = (data[6] & 0x0F) | 0x40
    data[8] = (data[8] & 0x3F) | 0x80
    text = data.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class IdSequence:
    """Ids unique across processes: a random prefix and a counter.

    As unique as a uuid4 each, at a fraction of its cost per message. The
    prefix is a uuid4 (``random_bytes=None``) or ``random_bytes`` random
    bytes in hex, for shorter ids.
    """

    __slots__ = ("_counter", "prefix")

    def __init__(self, random_bytes: int | None = None) -> None:
        random_part = (
            random_uuid() if random_bytes is None else os.urandom(random_bytes).hex()
        )
        self.prefix = f"{random_part}-"
        """What every id of this sequence starts with."""
        self._counter = itertools.count(1)

    def next(self) -> str:
        """A new id."""
        return f"{self.prefix}{next(self._counter)}"
