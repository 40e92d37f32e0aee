"""Random UUIDs as text, without the :mod:`uuid` module.

``uuid`` imports ``platform`` (a few milliseconds of a worker's cold start);
a runtime needs only ``str(uuid.uuid4())``, which this builds the same way.
"""

from __future__ import annotations

import os

__all__ = ["random_uuid"]


def random_uuid() -> str:
    """A random (version 4, RFC 4122 variant) UUID, as ``str(uuid.uuid4())``."""
    data = bytearray(os.urandom(16))
    data[6] = (data[6] & 0x0F) | 0x40
    data[8] = (data[8] & 0x3F) | 0x80
    text = data.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
