"""Events that outlive a worker's connection to the host.

Publishes made while disconnected wait in the publish buffer for the next
connection (their callers wait too, up to ``publish_timeout``). When a
connection is lost, the events it had not written, and the last events it
had written (they may have died with the host, see :mod:`.redelivery`),
wait there too, before anything newer. Whatever is dropped is counted and
logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from ...errors import NotDeliveredError
from ...local.work import WorkCount
from ...wire.frames import mark_resent
from .counters import WorkerCounters
from .publish_buffer import BufferedPublish, HeldKind, PublishBuffer
from .redelivery import ResendWindow
from .stream import Outgoing, WorkerStream

__all__ = ["Carryover"]

logger = logging.getLogger("agentgen.runtime.grpc.worker")

_RESEND_BYTES = 16 * 1024 * 1024
"""Bytes of written events kept for sending again after a lost connection."""


class Carryover:
    """The publish buffer and the resend window of one worker (see the module)."""

    def __init__(
        self,
        host_address: str,
        *,
        reconnect: bool,
        counters: WorkerCounters,
        work: WorkCount,
        capacity: int,
        timeout: float,
        resend_window: int,
        max_message_size: int,
    ) -> None:
        self._host_address = host_address
        self._reconnect = reconnect
        self._counters = counters
        self.buffer = PublishBuffer(capacity, timeout, self._held_events_removed, work)
        """Publishes waiting for a connection, and events kept from a lost one."""
        self._resend = ResendWindow(resend_window, max(max_message_size, _RESEND_BYTES))

    def flush(self, stream: WorkerStream) -> None:
        """Queue everything held on a new connection's stream, oldest first."""
        for entry in self.buffer.take_all():
            stream.send_now(Outgoing(entry.frame, True))
            if entry.waiter is not None and not entry.waiter.done():
                entry.waiter.set_result(None)

    def hold(self, frame: bytes) -> BufferedPublish:
        """Hold a publish made while disconnected until the next connection.

        ``NotDeliveredError`` at once when reconnect is off or the buffer is
        full (counted as refused).
        """
        if not self._reconnect:
            self._counters.publishes_refused += 1
            raise NotDeliveredError(
                f"not connected to the host at {self._host_address} "
                "(reconnect is off)"
            )
        try:
            entry = self.buffer.wait_for_connection(frame)
        except NotDeliveredError:
            self._counters.publishes_refused += 1
            raise
        self._counters.publishes_buffered += 1
        return entry

    def written(self, item: Outgoing) -> None:
        """A frame was written: an event joins the resend window."""
        if item.is_event:
            self._resend.add(item.frame)

    def keep(self, unsent: list[Outgoing]) -> None:
        """Events of a lost connection wait for the next one, oldest first.

        First the last events written (they may not have reached the host),
        then those never written; RPC requests and replies are not kept
        (their callers are answered with errors).
        """
        resent = self._resend.take()
        requeued = [item.frame for item in unsent if item.is_event]
        self.buffer.keep_first(
            [(mark_resent(frame), HeldKind.RESENT) for frame in resent]
            + [(frame, HeldKind.ACCEPTED) for frame in requeued]
        )
        self._counters.events_resent += len(resent)
        self._counters.events_requeued += len(requeued)
        if resent or requeued:
            logger.info(
                "%d events written just before the connection was lost and %d "
                "never written will be sent after reconnecting",
                len(resent),
                len(requeued),
            )

    def drop(self, unsent: list[Outgoing]) -> None:
        """Frames a closing connection could not write: counted and logged."""
        events = sum(item.is_event for item in unsent)
        if events:
            self._counters.events_expired += events
            logger.error(
                "%d published events were not delivered: the connection to the "
                "host closed before they were written",
                events,
            )

    def _held_events_removed(
        self, entries: Sequence[BufferedPublish], reason: str
    ) -> None:
        """Held events that will not be sent (deadline passed, worker stopped)."""
        kinds = Counter(entry.kind for entry in entries)
        self._counters.publishes_refused += kinds[HeldKind.WAITING]
        self._counters.events_expired += kinds[HeldKind.ACCEPTED]
        if kinds[HeldKind.ACCEPTED]:
            logger.error(
                "%d published events were not delivered: %s",
                kinds[HeldKind.ACCEPTED],
                reason,
            )
        if kinds[HeldKind.RESENT]:
            logger.warning(
                "%d events written just before the connection to the host was "
                "lost were not sent again (%s); they may not have been delivered",
                kinds[HeldKind.RESENT],
                reason,
            )
