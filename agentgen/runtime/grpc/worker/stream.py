"""The worker's side of one data stream to the host.

A :class:`WorkerStream` owns one stream, opened with a fresh ``client-id``: a
task writes the frames of its outbox in order, another hands each received
frame to the worker, and stops reading while the worker says so (the
awaitable ``on_frame`` may return). A stream is never reopened; the worker
makes a new one after a loss. Each frame counts as one unit of the worker's
:class:`~agentgen.runtime.local.work.WorkCount` from queued until written
(or handed back unsent by :meth:`WorkerStream.end`).

The stream is ``OpenBatchChannel`` (several frames per gRPC message, see
:mod:`.batching`) when the host advertises it, else AutoGen's ``OpenChannel``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import grpc
from google.protobuf.message import Message

from agentgen.protos import agent_worker_pb2 as pb

from ...local.work import WorkCount
from ...uuids import random_uuid
from ...wire import batches
from ...wire.batches import BatchReader
from ..protocol import batching, service
from ..protocol.auth import authorization_metadata
from ..protocol.outbox import Outbox

if TYPE_CHECKING:
    from ..protocol.tls import ClientTls

__all__ = ["Outgoing", "WorkerStream", "open_host_channel"]

logger = logging.getLogger("agentgen.runtime.grpc.worker")

R = TypeVar("R", bound=Message)


class Outgoing(NamedTuple):
    """A frame to write; events are kept across a reconnect, others are not."""

    frame: bytes
    is_event: bool


def open_host_channel(
    target: str, tls: ClientTls | None, options: Sequence[tuple[str, Any]]
) -> grpc.aio.Channel:
    """A grpc.aio channel to the host, plain or TLS."""
    if tls is None:
        return grpc.aio.insecure_channel(target, options)
    return grpc.aio.secure_channel(target, tls.credentials(), options)


class WorkerStream:
    """One ``OpenChannel`` stream and the unary calls made under its client id."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        outbox_limit: int,
        call_timeout: float,
        on_frame: Callable[[WorkerStream, bytes], Awaitable[None] | None],
        on_written: Callable[[Outgoing], None],
        reader: BatchReader,
        work: WorkCount,
        auth_token: str | None = None,
    ) -> None:
        self.client_id = random_uuid()
        self.outbox = Outbox[Outgoing](outbox_limit)
        """The frames waiting to be written: put them with :meth:`send` or
        :meth:`send_now`, which count them as work."""
        self.ended = asyncio.Event()
        self.end_reason = ""
        self._channel = channel
        self._call_timeout = call_timeout
        self._on_frame = on_frame
        self._on_written = on_written
        self._metadata: tuple[tuple[str, str], ...] = (
            (service.CLIENT_ID_HEADER, self.client_id),
        )
        if auth_token is not None:
            self._metadata += (authorization_metadata(auth_token),)
        self._call: grpc.aio.StreamStreamCall[bytes, bytes] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._reader = reader
        self._work = work
        self.batched = False
        """Whether the stream carries batches (the host offered them)."""
        self.type_sharing: str | None = None
        """The host's type-sharing mode, as an agentgen host tells it; ``None``
        for hosts that do not (AutoGen's: one worker per agent type)."""
        self._writing: list[Outgoing] = []
        """The frames being written: unsent until ``call.write`` returned."""

    async def open(self) -> None:
        """Open the stream; return once the host has attached it.

        The batch stream is asked for at once, with a probe
        (``GetSubscriptions``) alongside. An agentgen host that offers it
        answers with its initial metadata, which both tells an agentgen host
        and acknowledges the stream: one round trip, and the probe is
        cancelled. A host that does not serve it (an AutoGen host, an
        agentgen host without batching) refuses it as ``UNIMPLEMENTED``; the
        probe's initial metadata then tells which, and ``OpenChannel`` is
        opened. An agentgen host acknowledges that stream with initial
        metadata too; the protocol has no acknowledgement otherwise (AutoGen
        hosts), so then a second probe after the stream's headers were sent
        must do.
        """
        probe = asyncio.ensure_future(self._probe())
        try:
            call = await self._open_batch_stream()
            if call is None:
                call = await self._open_channel(await probe)
        finally:
            if not probe.done():
                probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)
        self._call = call
        self._tasks = [
            asyncio.create_task(
                self._write(call), name=f"agentgen-write-{self.client_id}"
            ),
            asyncio.create_task(
                self._read(call), name=f"agentgen-read-{self.client_id}"
            ),
        ]

    async def _open_batch_stream(
        self,
    ) -> grpc.aio.StreamStreamCall[bytes, bytes] | None:
        """The batch stream once attached; ``None`` if the host does not serve it."""
        open_batch = self._channel.stream_stream(batching.batch_path(), None, None)
        call = open_batch(None, metadata=self._metadata)
        try:
            headers = await asyncio.wait_for(
                call.initial_metadata(), self._call_timeout
            )
            if batching.advertises_batching(headers):
                self.batched = True
                self.type_sharing = service.header_value(
                    headers, service.TYPE_SHARING_HEADER
                )
                return call
            if call.done() and await call.code() != grpc.StatusCode.UNIMPLEMENTED:
                await call.wait_for_connection()  # raises the call's error
        except BaseException:
            call.cancel()
            raise
        call.cancel()
        return None

    async def _open_channel(
        self, headers: grpc.aio.Metadata | None
    ) -> grpc.aio.StreamStreamCall[bytes, bytes]:
        """``OpenChannel``, attached (see :meth:`open`); ``headers``: the probe's."""
        agentgen_host = (
            service.header_value(headers, service.HOST_MARKER_HEADER) is not None
        )
        self.type_sharing = service.header_value(headers, service.TYPE_SHARING_HEADER)
        open_channel = self._channel.stream_stream(
            service.method_path(service.OPEN_CHANNEL), None, None
        )
        call = self._call = open_channel(None, metadata=self._metadata)
        await asyncio.wait_for(call.wait_for_connection(), self._call_timeout)
        if agentgen_host:
            await asyncio.wait_for(call.initial_metadata(), self._call_timeout)
        else:
            await self._probe()
        return call

    async def _probe(self) -> grpc.aio.Metadata | None:
        """A ``GetSubscriptions`` round trip; the host's initial metadata.

        ``None`` if the host does not implement the call (older AutoGen).
        """
        probe = self._channel.unary_unary(
            service.method_path(service.GET_SUBSCRIPTIONS),
            pb.GetSubscriptionsRequest.SerializeToString,
            pb.GetSubscriptionsResponse.FromString,
        )(
            pb.GetSubscriptionsRequest(),
            metadata=self._metadata,
            timeout=self._call_timeout,
        )
        try:
            headers = await probe.initial_metadata()
            await probe
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
            return None
        except asyncio.CancelledError:
            probe.cancel()  # not done by cancelling an await of its metadata
            raise
        return headers

    async def unary(self, method: str, request: Message, response_type: type[R]) -> R:
        """Call a unary method of the host under this session's client id."""
        call = self._channel.unary_unary(
            service.method_path(method),
            type(request).SerializeToString,
            response_type.FromString,
        )
        response = await call(
            request, metadata=self._metadata, timeout=self._call_timeout
        )
        assert isinstance(response, response_type)
        return response

    async def send(self, item: Outgoing) -> bool:
        """Queue ``item``, waiting while the outbox is full; ``False`` if ended.

        The item counts as work from the call on (while it waits too).
        """
        work = self._work
        work.add()
        try:
            queued = await self.outbox.put(item)
        except BaseException:  # cancelled while waiting for room
            work.done()
            raise
        if not queued:
            work.done()
        return queued

    def send_now(self, item: Outgoing) -> bool:
        """Queue ``item`` whatever the outbox's fill; ``False`` if ended."""
        if not self.outbox.put_urgent(item):
            return False
        self._work.add()
        return True

    async def _write(self, call: grpc.aio.StreamStreamCall[bytes, bytes]) -> None:
        outbox = self.outbox
        batched = self.batched
        try:
            while (item := await outbox.get()) is not None:
                if batched:
                    items = batching.take_queued(outbox, item, _frame_size)
                    self._writing = items
                    await call.write(batches.pack([each.frame for each in items]))
                else:
                    items = self._writing = [item]
                    await call.write(item.frame)
                if self.ended.is_set():
                    return  # handed back by end() as unsent
                self._writing = []
                for each in items:
                    self._on_written(each)
                self._work.done(len(items))
            await call.done_writing()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._end(f"writing failed: {error!r}")

    async def _read(self, call: grpc.aio.StreamStreamCall[bytes, bytes]) -> None:
        try:
            while True:
                message = await call.read()
                if not isinstance(message, bytes):  # grpc.aio.EOF
                    self._end("the host ended the stream")
                    return
                for frame in self._frames_of(message):
                    pause = self._on_frame(self, frame)
                    if pause is not None:
                        await pause  # back-pressure: the host holds what follows
        except asyncio.CancelledError:
            raise
        except grpc.aio.AioRpcError as error:
            self._end(f"{error.code().name}: {error.details()}")
        except Exception as error:
            self._end(f"reading failed: {error!r}")

    def _frames_of(self, message: bytes) -> list[bytes]:
        """The frames of one stream message; none if it is a malformed batch."""
        if not self.batched:
            return [message]
        return self._reader.frames(message, self.client_id)

    def _end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.end_reason = reason
            self.outbox.close()
            self.ended.set()

    async def stop_reading(self) -> None:
        """Stop handing received frames on (the worker is stopping)."""
        reader = self._tasks[1] if len(self._tasks) > 1 else None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def drain(self, timeout: float) -> None:
        """Write what is queued (for up to ``timeout`` s), then end the stream."""
        self.outbox.close()
        writer = self._tasks[0] if self._tasks else None
        if writer is not None and not writer.done():
            await asyncio.wait({writer}, timeout=timeout)

    def end(self, reason: str) -> list[Outgoing]:
        """End the stream now; return the frames it has not written.

        The frames being written count as unsent: they may or may not have
        reached the host, and ``on_written`` is not called for them. They no
        longer count as work here (the caller may queue them elsewhere).
        """
        self._end(reason)
        writing, self._writing = self._writing, []
        unsent = [*writing, *self.outbox.drain()]
        if unsent:
            self._work.done(len(unsent))
        return unsent

    async def close(self, reason: str) -> None:
        """End the stream now and wait for its tasks (see :meth:`end`)."""
        self._end(reason)
        if self._call is not None:
            self._call.cancel()
        current = asyncio.current_task()
        tasks = [task for task in self._tasks if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _frame_size(item: Outgoing) -> int:
    return len(item.frame)
