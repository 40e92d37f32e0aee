"""A worker's lease in the routing bucket, and the watcher of everyone's.

The worker's entry (``w.<worker id>``, :func:`~.routing.encode_entry`) is
written with a per-key TTL of ``lease`` seconds and written again every third
of it; when the worker stops it is deleted, and when the worker dies the
server expires it and puts a marker every watcher sees (``limit_marker_ttl``,
nats-server 2.11.2+). The watcher applies every change to the
:class:`~.routing.RoutingView` and the :class:`~.handoff.StateBoard`; after a
reconnection it is restarted, and a worker missing from the new snapshot is
removed (a watcher alone can miss changes across a failover).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..subscriptions import Subscription
from .handoff import StateBoard
from .routing import RoutingView, decode_entry, encode_entry
from .subjects import Subjects

if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js import JetStreamContext
    from nats.js.kv import KeyValue

    from .counters import NatsCounters

__all__ = ["Membership"]

logger = logging.getLogger("agentgen.runtime.nats")

MARKER_TTL = 1.0
"""Seconds the server keeps the marker of an expired entry (its minimum)."""
_FIRST_RETRY = 0.05
_LAST_RETRY = 0.5
"""Pauses, in seconds, between writes of the entry that found no stream."""


class Membership:
    """This worker's lease, and the watcher of the bucket (see the module)."""

    def __init__(
        self,
        client: Client,
        subjects: Subjects,
        worker_id: str,
        view: RoutingView,
        board: StateBoard,
        counters: NatsCounters,
        *,
        lease: float,
        replicas: int,
        timeout: float,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        if lease < 3 * MARKER_TTL:
            raise ValueError(f"the lease must be at least 3 s, got {lease:g}")
        self._client = client
        self._js: JetStreamContext = client.jetstream(timeout=timeout)
        self._subjects = subjects
        self.worker_id = worker_id
        self._view = view
        self._board = board
        self._counters = counters
        self._lease = lease
        self._replicas = replicas
        self._timeout = timeout
        self._on_change = on_change
        self.kv: KeyValue | None = None
        self._payload: bytes | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()

    async def open(self) -> KeyValue:
        """Open (or create) the bucket and wait for the first snapshot of it."""
        from nats.js.api import KeyValueConfig
        from nats.js.errors import BucketNotFoundError

        bucket = self._subjects.bucket
        try:
            self.kv = await self._js.key_value(bucket)
        except BucketNotFoundError:
            self.kv = await self._js.create_key_value(
                KeyValueConfig(
                    bucket=bucket,
                    history=1,
                    replicas=self._replicas,
                    limit_marker_ttl=MARKER_TTL,
                )
            )
        await self.resync()
        return self.kv

    async def resync(self) -> None:
        """(Re)start the watcher; return once its snapshot is applied."""
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        self._synced.clear()
        self._watcher = asyncio.create_task(self._watch(), name="agentgen-nats-watch")
        waiter = asyncio.create_task(self._synced.wait())
        await asyncio.wait(
            {waiter, self._watcher},
            timeout=self._timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        waiter.cancel()
        if self._watcher.done():
            self._watcher.result()  # raises what stopped it
        if not self._synced.is_set():
            raise TimeoutError(
                f"no snapshot of the routing bucket {self._subjects.bucket!r} "
                f"within {self._timeout:g} s"
            )

    async def _watch(self) -> None:
        assert self.kv is not None
        watcher = await self.kv.watchall()
        seen: set[str] = set()
        try:
            async for entry in watcher:
                if entry is None:  # the snapshot is complete
                    self._forget_unseen(seen)
                    self._synced.set()
                    continue
                if not self._synced.is_set():
                    seen.add(entry.key)
                self._apply(entry.key, entry.value, entry.operation)
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]

    def _apply(self, key: str, value: bytes | None, operation: str | None) -> None:
        parsed = Subjects.parse_key(key)
        if parsed is None:
            return
        kind, names = parsed
        removed = operation in ("DEL", "PURGE") or value is None
        if kind == "state":
            self._board.put(names[0], names[1], None if removed else value)
            return
        worker_id = names[0]
        if removed:
            if self._view.remove(worker_id):
                logger.info("worker %s left the routing state", worker_id)
                self._changed()
            return
        try:
            entry = decode_entry(worker_id, value or b"")
        except ValueError as error:
            self._counters.malformed_entries += 1
            logger.warning("ignored a routing entry: %s", error)
            return
        known = worker_id in self._view.workers
        self._view.put(entry)
        if not known:
            logger.info(
                "worker %s serves %s", worker_id, ", ".join(entry.agent_types) or "-"
            )
        self._changed()

    def _forget_unseen(self, seen: set[str]) -> None:
        for worker_id in list(self._view.workers):
            if (
                worker_id != self.worker_id
                and Subjects.worker_key(worker_id) not in seen
            ):
                self._view.remove(worker_id)
                self._changed()
        for agent_type, key in list(self._board.entries):
            if Subjects.state_key(agent_type, key) not in seen:
                self._board.put(agent_type, key, None)

    def _changed(self) -> None:
        self._counters.routing_changes += 1
        if self._on_change is not None:
            self._on_change()

    # -- this worker's entry -----------------------------------------------------

    async def publish(
        self, agent_types: Iterable[str], subscriptions: Iterable[Subscription]
    ) -> None:
        """Write this worker's entry (what it serves); keep it alive from now on."""
        self._payload = encode_entry(agent_types, subscriptions)
        self._view.put(decode_entry(self.worker_id, self._payload))
        await self._write()
        if self._renewer is None:
            self._renewer = asyncio.create_task(
                self._renew(), name="agentgen-nats-lease"
            )

    async def _write(self) -> None:
        from nats.js.errors import NoStreamResponseError

        assert self._payload is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        pause = _FIRST_RETRY
        while True:
            try:
                await self._js.publish(
                    self._subjects.kv_prefix + Subjects.worker_key(self.worker_id),
                    self._payload,
                    msg_ttl=self._lease,
                )
                return
            except NoStreamResponseError:
                # A bucket just created on a cluster: the servers learn where
                # its stream listens a moment later. Bounded by the timeout.
                if loop.time() + pause > deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, _LAST_RETRY)

    async def _renew(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                await self._write()
            except Exception as error:
                self._counters.lease_renewals_failed += 1
                if not failing:
                    logger.warning(
                        "could not renew worker %s's lease (retrying every %g s): %s",
                        self.worker_id,
                        self._lease / 3,
                        error,
                    )
                failing = True
            else:
                if failing:
                    logger.info("worker %s's lease renewed again", self.worker_id)
                failing = False

    async def leave(self) -> None:
        """Stop serving: the entry is deleted, and removed from this view at once."""
        await self._stop_renewing()
        self._view.remove(self.worker_id)
        if self.kv is not None:
            try:
                await self.kv.delete(Subjects.worker_key(self.worker_id))
            except Exception as error:
                logger.warning(
                    "could not delete worker %s's entry (it expires in %g s): %s",
                    self.worker_id,
                    self._lease,
                    error,
                )

    async def close(self) -> None:
        """Stop renewing and watching (the connection is closing)."""
        await self._stop_renewing()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    async def _stop_renewing(self) -> None:
        renewer, self._renewer = self._renewer, None
        if renewer is not None:
            renewer.cancel()
            await asyncio.gather(renewer, return_exceptions=True)
