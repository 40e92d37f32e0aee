"""What a worker sends: events it publishes and the RPC requests it makes.

A publish is encoded once and queued on the serving stream, or, while the
worker is disconnected, held for the next connection (its caller waits, up
to ``publish_timeout``). A request goes on the calls stream, so that its
reply never waits behind the agents' backlog (see :mod:`.link`); its caller
waits at most its deadline, whatever happens to the connection.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Any

from ...deadlines import Deadlines
from ...errors import AgentgenError, RpcTimeoutError
from ...ids import AgentId, TopicId
from ...wire.codec import PayloadCodec
from ...wire.frames import request_frame
from ...wire.replies import reply_value
from ...wire.size_limits import check_frame_size
from ..protocol.connection_errors import ConnectionLostError
from .connection import Connection
from .counters import WorkerCounters
from .link import StreamPair
from .pending_calls import PendingCalls
from .stream import Outgoing, WorkerStream

__all__ = ["Outbound", "no_reply"]


class Outbound:
    """Publishes and RPC requests of one worker, over its :class:`Connection`.

    ``rpc_content_types`` maps agent types to the encoding of requests to
    them; ``""`` is the default.
    """

    def __init__(
        self,
        connection: Connection,
        codec: PayloadCodec,
        pending: PendingCalls,
        counters: WorkerCounters,
        deadlines: Deadlines,
        rpc_content_types: Mapping[str, str],
    ) -> None:
        self._connection = connection
        self._codec = codec
        self._pending = pending
        self._counters = counters
        self._deadlines = deadlines
        self._default_content_type = rpc_content_types[""]
        self._content_types = dict(rpc_content_types)

    async def publish(
        self,
        message: Any,
        topic: TopicId,
        sender: AgentId | None,
        message_id: str,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> None:
        """Queue an event for the host; hold it while disconnected.

        ``trace_carrier`` travels in the event's attributes.
        """
        frame = self._codec.event_frame(
            message, topic, sender, message_id, trace_carrier
        )
        check_frame_size(len(frame), self._codec.max_message_size, "the event")
        connection = self._connection
        link = connection.link
        if link is not None and await link.serving.send(Outgoing(frame, True)):
            self._counters.published += 1
            return
        entry = connection.carryover.hold(
            frame
        )  # NotDeliveredError when it cannot wait
        assert entry.waiter is not None
        await entry.waiter  # NotDeliveredError past the deadline (counted there)
        self._counters.published += 1

    async def call(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        request_id: str,
        limit: float,
        trace_carrier: Mapping[str, str] | None = None,
    ) -> Any:
        """Send an RPC request and return the reply (see ``send_message``).

        ``trace_carrier`` travels in the request's metadata.
        """
        content_type = self._content_types.get(
            recipient.type, self._default_content_type
        )
        type_name, data = self._codec.encode(message, content_type)
        if request_id in self._pending:
            raise ValueError(f"an RPC with id {request_id!r} is already pending")
        frame = request_frame(
            request_id, recipient, sender, type_name, content_type, data, trace_carrier
        )
        check_frame_size(len(frame), self._codec.max_message_size, "the request")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        try:
            link = self._connection.link or await self._link_by(
                deadline, recipient, limit, request_id
            )
            reply = self._pending.expect(request_id, recipient)
            # Not asyncio.timeout nor a call_at handle per call: the runtime's
            # one timer for all of them (deadlines.py).
            self._deadlines.add_at(
                loop,
                deadline,
                reply,
                functools.partial(self._expire, request_id, recipient, limit),
            )
            try:
                await self._send_request(link.calls, frame, recipient, deadline)
                response = await reply
            finally:
                self._deadlines.release()
            return reply_value(response, self._codec, recipient)
        except AgentgenError:
            self._counters.rpc_failed += 1
            raise
        finally:
            self._pending.discard(request_id)

    def _expire(self, request_id: str, recipient: AgentId, limit: float) -> None:
        self._pending.expire(request_id, no_reply(recipient, limit, request_id))

    async def _link_by(
        self, deadline: float, recipient: AgentId, limit: float, request_id: str
    ) -> StreamPair:
        """The connection once made; fails if that takes past ``deadline``."""
        try:
            async with asyncio.timeout_at(deadline):
                return await self._connection.wait_for_link()
        except TimeoutError as error:
            if isinstance(error, RpcTimeoutError):
                raise
            expired = no_reply(recipient, limit, request_id)
            raise RpcTimeoutError(f"{expired}: not connected to the host") from None

    async def _send_request(
        self, stream: WorkerStream, frame: bytes, recipient: AgentId, deadline: float
    ) -> None:
        item = Outgoing(frame, False)
        if stream.outbox.full:
            try:
                async with asyncio.timeout_at(deadline):
                    queued = await stream.send(item)
            except TimeoutError:
                raise RpcTimeoutError(
                    f"the request to {recipient} found the stream to the host full "
                    "until its deadline"
                ) from None
        else:
            queued = stream.send_now(item)
        if not queued:
            raise ConnectionLostError(
                f"the connection to the host was lost before the request to "
                f"{recipient} was sent"
            )
        self._counters.rpc_sent += 1


def no_reply(recipient: AgentId, limit: float, request_id: str) -> str:
    """Why an RPC failed when no reply came within ``limit`` seconds."""
    return f"no reply from {recipient} within {limit:g} s (request {request_id})"
