"""Events for other workers, several to a NATS message.

nats-py and the server spend a few µs on every NATS message whatever its
size, so a worker gathers the event frames it publishes for each worker's
subject and one task sends them as batches (:mod:`~..wire.batches`) at the
next turn of the event loop. One sender keeps each subject's frames in
order. A publisher that runs ahead (more than :data:`HIGH_WATER` frames
waiting) waits for the sender. Waiting frames are one unit of work, so
``stop_when_idle`` and ``stop`` wait for them. Frames whose batch cannot be
sent after their ``publish_message`` returned are counted in
``events_not_sent`` and logged: nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from ..errors import MessageTooLargeError, NotDeliveredError
from ..local.work import WorkCount
from ..log_text import clip
from ..wire.batches import MAX_BATCH_BYTES, MAX_BATCH_FRAMES, pack
from .counters import NatsCounters

if TYPE_CHECKING:
    from nats.aio.client import Client

__all__ = ["HIGH_WATER", "EventBatcher"]

logger = logging.getLogger("agentgen.runtime.nats")

HIGH_WATER: Final = 4 * MAX_BATCH_FRAMES
"""Frames waiting (over all subjects) past which a publisher waits for the sender."""
_PREFIX_ROOM: Final = 10
"""The most a frame's length prefix takes in a batch."""


class EventBatcher:
    """Sends one worker's event frames in batches (see the module docstring)."""

    def __init__(self, client: Client, counters: NatsCounters, work: WorkCount) -> None:
        self._client = client
        self._counters = counters
        self._work = work
        self._batch_bytes = min(MAX_BATCH_BYTES, client.max_payload)
        self._waiting: dict[str, list[bytes]] = {}
        self._count = 0
        self._sender: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return self._count

    async def add(self, subject: str, frame: bytes) -> None:
        """Queue ``frame`` for ``subject``; it is sent at the next loop turn.

        :class:`NotDeliveredError` if the connection is closed or closing,
        :class:`MessageTooLargeError` if the frame cannot fit a NATS message.
        """
        client = self._client
        if client.is_closed or client.is_draining_pubs:
            raise NotDeliveredError("the event was not sent: the connection closed")
        if len(frame) + _PREFIX_ROOM > client.max_payload:
            raise MessageTooLargeError(
                f"the event is a {len(frame)}-byte frame, over the NATS server's "
                f"max_payload ({client.max_payload} bytes)"
            )
        frames = self._waiting.get(subject)
        if frames is None:
            self._waiting[subject] = [frame]
        else:
            frames.append(frame)
        self._count += 1
        sender = self._sender
        if sender is None:
            self._work.add()
            sender = self._sender = asyncio.ensure_future(self._send_all())
        if self._count > HIGH_WATER:
            await asyncio.shield(sender)

    async def flush(self) -> None:
        """Return once every frame queued so far was handed to the client."""
        if self._sender is not None:
            await asyncio.shield(self._sender)

    async def _send_all(self) -> None:
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, {}
                self._count = 0
                for subject, frames in waiting.items():
                    for batch in self._batches(frames):
                        await self._send(subject, batch)
        finally:
            self._sender = None
            self._work.done()

    def _batches(self, frames: list[bytes]) -> list[list[bytes]]:
        if len(frames) == 1:
            return [frames]
        batches: list[list[bytes]] = []
        batch: list[bytes] = []
        size = 0
        for frame in frames:
            frame_size = len(frame) + _PREFIX_ROOM
            if batch and (
                len(batch) >= MAX_BATCH_FRAMES or size + frame_size > self._batch_bytes
            ):
                batches.append(batch)
                batch, size = [], 0
            batch.append(frame)
            size += frame_size
        batches.append(batch)
        return batches

    async def _send(self, subject: str, batch: list[bytes]) -> None:
        try:
            await self._client.publish(subject, pack(batch))
        except Exception as error:  # closed, draining, outbound buffer full
            self._counters.events_not_sent += len(batch)
            logger.warning(
                "%d events for %s were not sent after their publish returned: %r",
                len(batch),
                clip(subject),
                error,
            )
        else:
            self._counters.events_sent += len(batch)
            self._counters.batches_sent += 1
