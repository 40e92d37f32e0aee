"""Several ``agents.Message`` frames in one transport message, between agentgen peers.

Encoding of a batch: each frame (a serialized ``agents.Message``) as its
length in bytes, an unsigned base-128 varint as in protobuf, followed by the
frame's bytes, one after the other; no header and no trailer. (This is also
the encoding of a protobuf ``repeated bytes`` field number 0 without tags.)
An empty batch has no frames. The gRPC batch stream
(:mod:`agentgen.runtime.grpc.protocol.batching`) and NATS event subjects
(:mod:`agentgen.runtime.nats.batcher`) carry batches.

Writers send what is queued at the moment, at most :data:`MAX_BATCH_FRAMES`
frames and :data:`MAX_BATCH_BYTES` bytes unless a single frame is larger, so
nothing waits for a batch to fill.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Final, Protocol

from agentgen.varint import decode_varint, encode_varint

from ..log_text import FirstTimes, clip
from .frames import FrameReader, IntakeCounters

__all__ = [
    "MAX_BATCH_BYTES",
    "MAX_BATCH_FRAMES",
    "BatchCounters",
    "BatchReader",
    "MalformedBatchError",
    "pack",
    "unpack",
]

MAX_BATCH_FRAMES: Final = 256
MAX_BATCH_BYTES: Final = 1024 * 1024


class MalformedBatchError(ValueError):
    """Bytes that are not a sequence of length-prefixed frames."""


def pack(frames: Iterable[bytes]) -> bytes:
    """One batch: each frame length-prefixed, joined."""
    parts: list[bytes] = []
    for frame in frames:
        # Prefixes of one and two bytes (frames under 16 KiB) inline: a call
        # and a Python loop less per frame; agentgen.varint for the longer ones.
        size = len(frame)
        if size < 0x80:
            parts.append(bytes((size,)))
        elif size < 0x4000:
            parts.append(bytes(((size & 0x7F) | 0x80, size >> 7)))
        else:
            parts.append(encode_varint(size))
        parts.append(frame)
    return b"".join(parts)


def unpack(data: bytes) -> list[bytes]:
    """The frames of a batch; :class:`MalformedBatchError` if it is malformed.

    A malformed batch yields no frame at all (not the ones before the fault).
    """
    frames: list[bytes] = []
    position = 0
    end = len(data)
    while position < end:
        size = data[position]  # one- and two-byte prefixes inline, as in pack
        if size < 0x80:
            position += 1
        elif position + 1 < end and data[position + 1] < 0x80:
            size = (size & 0x7F) | (data[position + 1] << 7)
            position += 2
        else:
            try:
                size, position = decode_varint(data, position, end)
            except ValueError as error:
                raise MalformedBatchError(
                    f"a malformed length prefix: {error}"
                ) from None
        if position + size > end:
            raise MalformedBatchError(
                f"a {size}-byte frame runs past the end of a {end}-byte batch"
            )
        frames.append(data[position : position + size])
        position += size
    return frames


class BatchCounters(IntakeCounters, Protocol):
    """The counters a :class:`BatchReader` keeps (both sides' counters have them)."""

    batches_received: int
    malformed_batches: int


class BatchReader(FrameReader):
    """A :class:`~agentgen.runtime.wire.frames.FrameReader` for batches too.

    ``once``: as for :class:`FrameReader` (malformed batches included).
    """

    __slots__ = ("_batch_counters",)

    def __init__(
        self,
        counters: BatchCounters,
        logger: logging.Logger,
        origin: str,
        *,
        once: FirstTimes | None = None,
    ) -> None:
        super().__init__(counters, logger, origin, once=once)
        self._batch_counters = counters

    def frames(self, batch: bytes, client_id: str) -> list[bytes]:
        """The frames of one batch; none if it is malformed."""
        counters = self._batch_counters
        counters.batches_received += 1
        try:
            return unpack(batch)
        except MalformedBatchError as error:
            counters.malformed_batches += 1
            if not self.logs("malformed batch"):
                return []
            self.logger.warning(
                "skipped a malformed %d-byte batch from %s: %s",
                len(batch),
                self.origin.format(clip(client_id)),
                error,
            )
            return []
