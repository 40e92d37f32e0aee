"""Protobuf's base-128 varints, for the byte layouts agentgen reads or writes itself.

Dependency-free and outside ``agentgen.runtime``, so that the protoc plugin
(which splits a CodeGeneratorRequest at the wire level) uses it without
importing the runtime.
"""

from __future__ import annotations

__all__ = ["decode_varint", "encode_varint"]


def encode_varint(value: int) -> bytes:
    """``value`` (not negative) as an unsigned base-128 varint."""
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes | memoryview, position: int, end: int) -> tuple[int, int]:
    """The varint at ``position`` and the position after it.

    ``ValueError`` if it runs past ``end`` or is longer than 10 bytes.
    """
    value = 0
    shift = 0
    while True:
        if position >= end:
            raise ValueError(f"a varint runs past the end of {end} bytes")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise ValueError("a varint is longer than 10 bytes")
