"""The worker's connection to the host: a serving stream and a calls stream.

Both are ``OpenChannel`` streams on the worker's gRPC channel, each under its
own ``client-id``:

* ``serving`` is the worker as the host knows it: it registers the agent
  types and subscriptions, receives the events and requests routed to them,
  and carries what they publish and the replies they give;
* ``calls`` only sends the RPC requests this worker makes, so their replies
  come back on a stream that nothing else uses.

The worker stops reading ``serving`` when its agents' backlog is full (that
is its back-pressure on the host), and a reply must never wait behind that:
an agent awaiting a reply while its own mailbox fills would otherwise wait
until its call timed out. (HTTP/2 flow control is per stream: what is left
unread on ``serving`` does not hold up ``calls``; gRPC credits the connection
as data arrives.) Any host (AutoGen's too) routes a reply to the client that
sent the request, so this needs nothing from the host.
"""

from __future__ import annotations

import asyncio

from .stream import Outgoing, WorkerStream

__all__ = ["StreamPair"]


class StreamPair:
    """Two :class:`WorkerStream` streams opened, watched and closed together."""

    def __init__(self, serving: WorkerStream, calls: WorkerStream) -> None:
        self.serving = serving
        self.calls = calls

    @property
    def client_id(self) -> str:
        """The client id the host knows this worker's agents by."""
        return self.serving.client_id

    @property
    def ended(self) -> bool:
        """Whether either stream has ended."""
        return self.serving.ended.is_set() or self.calls.ended.is_set()

    @property
    def end_reason(self) -> str:
        """Why the first stream to end ended."""
        for stream in (self.serving, self.calls):
            if stream.ended.is_set():
                return stream.end_reason
        return ""

    async def open(self) -> None:
        """Open both streams; return once the host has attached them.

        The two are opened concurrently (each takes a few round trips): if
        one fails or this is cancelled, the other's opening is cancelled.
        """
        calls = asyncio.ensure_future(self.calls.open())
        try:
            await self.serving.open()
        except BaseException:
            calls.cancel()
            await asyncio.gather(calls, return_exceptions=True)
            raise
        await calls

    async def wait_ended(self) -> None:
        """Wait until either stream ends."""
        waiters = [
            asyncio.create_task(stream.ended.wait())
            for stream in (self.serving, self.calls)
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def stop_reading(self) -> None:
        """Stop handing received frames on (the worker is stopping)."""
        await self.serving.stop_reading()
        await self.calls.stop_reading()

    async def drain(self, timeout: float) -> None:
        """Write what is queued on both (for up to ``timeout`` s each)."""
        await self.serving.drain(timeout)
        await self.calls.drain(timeout)

    def end(self, reason: str) -> list[Outgoing]:
        """End both streams now; return the frames they have not written."""
        return [*self.serving.end(reason), *self.calls.end(reason)]

    async def close(self, reason: str) -> None:
        """End both streams and wait for their tasks."""
        await self.serving.close(reason)
        await self.calls.close(reason)
