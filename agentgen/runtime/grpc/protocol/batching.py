"""Several ``agents.Message`` frames per gRPC message, between agentgen peers.

grpc.aio costs about 100 µs of CPU per stream message and process, whatever
its size (``bench/PROFILE.md``), so an agentgen worker and an agentgen host
exchange batches on a stream of their own, ``/agentgen.AgentRpcBatch/
OpenBatchChannel``, next to AutoGen's ``agents.AgentRpc`` (whose descriptor
stays AutoGen's). The host advertises it with the ``agentgen-batch: 1``
initial-metadata header; a worker that does not see it uses ``OpenChannel``.

Encoding of one gRPC message (a batch): each frame (a serialized
``agents.Message``) as its length in bytes, an unsigned base-128 varint as in
protobuf, followed by the frame's bytes, one after the other; no header and
no trailer. (This is also the encoding of a protobuf ``repeated bytes`` field
number 0 without tags.) An empty batch has no frames.

Writers send whatever is queued at the moment (:func:`take_queued`), at most
:data:`MAX_BATCH_FRAMES` frames and :data:`MAX_BATCH_BYTES` bytes unless a
single frame is larger, so nothing waits for a batch to fill. gRPC's
message limit leaves room for the length prefix of a frame at the frame limit
sent alone (``limits.grpc_size_options``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Final, Protocol, TypeVar

from ...log_text import clip
from ...wire.frames import FrameReader, IntakeCounters
from .outbox import Outbox

__all__ = [
    "BATCH_HEADER",
    "BATCH_METHOD",
    "BATCH_SERVICE",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_FRAMES",
    "BatchReader",
    "MalformedBatchError",
    "advertises_batching",
    "batch_path",
    "pack",
    "take_queued",
    "unpack",
]

BATCH_SERVICE: Final = "agentgen.AgentRpcBatch"
BATCH_METHOD: Final = "OpenBatchChannel"
BATCH_HEADER: Final = "agentgen-batch"
"""Initial-metadata header (value ``1``) of a host that serves the batch channel."""

MAX_BATCH_FRAMES: Final = 256
MAX_BATCH_BYTES: Final = 1024 * 1024

T = TypeVar("T")


class MalformedBatchError(ValueError):
    """Bytes that are not a sequence of length-prefixed frames."""


def batch_path() -> str:
    """The batch stream's full gRPC path."""
    return f"/{BATCH_SERVICE}/{BATCH_METHOD}"


def advertises_batching(metadata: Iterable[tuple[str, str | bytes]] | None) -> bool:
    """Whether initial metadata carries ``agentgen-batch: 1``."""
    return any(
        key == BATCH_HEADER and value in ("1", b"1") for key, value in metadata or ()
    )


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def pack(frames: Iterable[bytes]) -> bytes:
    """One batch: each frame length-prefixed, joined."""
    parts: list[bytes] = []
    for frame in frames:
        parts.append(_varint(len(frame)))
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
        size = 0
        shift = 0
        while True:
            if position >= end:
                raise MalformedBatchError(
                    f"a length prefix runs past the end of a {end}-byte batch"
                )
            byte = data[position]
            position += 1
            size |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift > 63:
                raise MalformedBatchError("a length prefix is longer than 10 bytes")
        if position + size > end:
            raise MalformedBatchError(
                f"a {size}-byte frame runs past the end of a {end}-byte batch"
            )
        frames.append(data[position : position + size])
        position += size
    return frames


def take_queued(outbox: Outbox[T], first: T, size_of: Callable[[T], int]) -> list[T]:
    """``first`` and what ``outbox`` holds now, within the batch limits.

    Never waits: takes frames while the outbox has some, up to
    :data:`MAX_BATCH_FRAMES` frames and :data:`MAX_BATCH_BYTES` bytes (a
    single larger frame goes alone).
    """
    items = [first]
    total = size_of(first)
    while len(items) < MAX_BATCH_FRAMES:
        following = outbox.peek()
        if following is None:
            break
        size = size_of(following)
        if total + size > MAX_BATCH_BYTES:
            break
        outbox.get_nowait()
        items.append(following)
        total += size
    return items


class BatchCounters(IntakeCounters, Protocol):
    """The counters a :class:`BatchReader` keeps (both sides' counters have them)."""

    batches_received: int
    malformed_batches: int


class BatchReader(FrameReader):
    """A :class:`~agentgen.runtime.wire.frames.FrameReader` for batch streams too."""

    __slots__ = ("_batch_counters",)

    def __init__(
        self, counters: BatchCounters, logger: logging.Logger, origin: str
    ) -> None:
        super().__init__(counters, logger, origin)
        self._batch_counters = counters

    def frames(self, batch: bytes, client_id: str) -> list[bytes]:
        """The frames of one batch-stream message; none if it is malformed."""
        counters = self._batch_counters
        counters.batches_received += 1
        try:
            return unpack(batch)
        except MalformedBatchError as error:
            counters.malformed_batches += 1
            self.logger.warning(
                "skipped a malformed %d-byte batch from %s: %s",
                len(batch),
                self.origin.format(clip(client_id)),
                error,
            )
            return []
