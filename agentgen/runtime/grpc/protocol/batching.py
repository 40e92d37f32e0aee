"""Several ``agents.Message`` frames per gRPC message, between agentgen peers.

grpc.aio costs about 100 µs of CPU per stream message and process, whatever
its size (``bench/PROFILE.md``), so an agentgen worker and an agentgen host
exchange batches on a stream of their own, ``/agentgen.AgentRpcBatch/
OpenBatchChannel``, next to AutoGen's ``agents.AgentRpc`` (whose descriptor
stays AutoGen's). The host advertises it with the ``agentgen-batch: 1``
initial-metadata header; a worker that does not see it uses ``OpenChannel``.

One gRPC message is one batch (:mod:`agentgen.runtime.wire.batches`);
writers send whatever is queued at the moment (:func:`take_queued`). gRPC's
message limit leaves room for the length prefix of a frame at the frame limit
sent alone (``limits.grpc_size_options``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final, TypeVar

from ...wire.batches import MAX_BATCH_BYTES, MAX_BATCH_FRAMES
from .outbox import Outbox

__all__ = [
    "BATCH_HEADER",
    "BATCH_METHOD",
    "BATCH_SERVICE",
    "advertises_batching",
    "batch_path",
    "take_queued",
]

BATCH_SERVICE: Final = "agentgen.AgentRpcBatch"
BATCH_METHOD: Final = "OpenBatchChannel"
BATCH_HEADER: Final = "agentgen-batch"
"""Initial-metadata header (value ``1``) of a host that serves the batch channel."""

T = TypeVar("T")


def batch_path() -> str:
    """The batch stream's full gRPC path."""
    return f"/{BATCH_SERVICE}/{BATCH_METHOD}"


def advertises_batching(metadata: Iterable[tuple[str, str | bytes]] | None) -> bool:
    """Whether initial metadata carries ``agentgen-batch: 1``."""
    return any(
        key == BATCH_HEADER and value in ("1", b"1") for key, value in metadata or ()
    )


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
