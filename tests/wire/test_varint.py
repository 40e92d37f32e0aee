"""Protobuf varints written and read by hand (``agentgen.varint``)."""

from __future__ import annotations

import pytest
from google.protobuf import wrappers_pb2

from agentgen.varint import decode_varint, encode_varint

VALUES = [0, 1, 127, 128, 300, 16_383, 16_384, 2**31, 2**63 - 1]


@pytest.mark.parametrize("value", VALUES)
def test_a_varint_is_protobufs_and_reads_back(value: int) -> None:
    # UInt64Value is field 1 with wire type 0: one tag byte, then the varint.
    expected = wrappers_pb2.UInt64Value(value=value).SerializeToString()[1:]
    encoded = encode_varint(value)
    assert encoded == (expected if value else b"\x00")
    data = b"ab" + encoded + b"cd"
    assert decode_varint(data, 2, len(data)) == (value, 2 + len(encoded))


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xff\xff", b"\xff" * 11 + b"\x01"])
def test_a_cut_or_overlong_varint_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="varint"):
        decode_varint(data, 0, len(data))
