"""``GrpcWorkerRuntime``: agents of this process on an ``agents.AgentRpc`` host.

Wire-compatible with AutoGen's ``GrpcWorkerAgentRuntime`` (reference §10,
worker checklist), and unlike it: waits until the host has attached its
stream before ``start()`` returns, reconnects and re-registers after a loss,
never lets an RPC hang, refuses oversized messages per call instead of losing
the stream, supports TLS, idleness and state.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import DecodeError

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2

from ..base import (
    DEFAULT_BACKLOG_LIMIT,
    DEFAULT_MAILBOX_CAPACITY,
    DEFAULT_RPC_TIMEOUT,
    BaseRuntime,
)
from ..errors import (
    AgentgenError,
    NotDeliveredError,
    RpcTimeoutError,
    SerializationError,
    UndeliverableError,
)
from ..ids import AgentId, TopicId
from ..log_text import clip
from ..serialization import JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE, UnknownPayload
from ..subscriptions import Subscription
from .address import resolve_worker_target
from .auth import AuthenticationError, check_token, token_from_environment
from .connection import HostSession, Outgoing, open_host_channel
from .counters import WorkerCounters
from .errors import ConnectionLostError, HostRefusedError
from .limits import DEFAULT_MAX_MESSAGE_SIZE, check_frame_size, grpc_size_options
from .link import HostLink
from .pending_calls import PendingCalls, reply_value
from .publish_buffer import BufferedPublish, HeldKind, PublishBuffer
from .redelivery import RecentEventIds, ResendWindow
from .registrations import HostRegistrations, is_connection_failure
from .replies import reply_frame
from .rpc_errors import RpcErrorKind
from .wire import (
    MalformedFrameError,
    PayloadCodec,
    error_response_frame,
    is_resent,
    mark_resent,
    request_frame,
)

if TYPE_CHECKING:
    from .tls import ClientTls

__all__ = ["GrpcWorkerRuntime"]

logger = logging.getLogger("agentgen.runtime.grpc.worker")

_CONTENT_TYPES = (JSON_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE)
_FIRST_RETRY_DELAY = 0.05
_WARNED_TYPES_LIMIT = 1000
_RESEND_BYTES = 16 * 1024 * 1024
"""Bytes of written events kept for sending again after a lost connection."""
_RECENT_EVENT_IDS = 16_384
"""Ids of received events remembered to drop repeats after a reconnection."""


class GrpcWorkerRuntime(BaseRuntime):
    """A runtime whose messages travel through an ``agents.AgentRpc`` host.

    ``host_address`` is ``host:port`` (an ``http://`` or ``https://`` prefix
    is accepted; ``https://`` implies TLS with the system's roots unless
    ``tls`` is given); without it, the ``AGENT_HOST`` environment variable,
    else ``localhost:53071``.

    Publishes made while the host is unreachable wait up to
    ``publish_timeout`` seconds for the reconnection (at most
    ``publish_buffer`` of them), then raise
    :class:`~agentgen.runtime.errors.NotDeliveredError`. Events a lost
    connection had not written, and the last ``resend_window`` it had written
    (they may have died with the host), are sent again after reconnecting,
    before anything newer; agentgen receivers drop the ones they already had
    (see :mod:`~agentgen.runtime.grpc.redelivery`). After a host restart an
    agentgen host holds events until their subscribers' workers have
    re-subscribed (``GrpcHost(hold_unrouted=...)``, longer than
    ``reconnect_max_delay``); an AutoGen host drops events that no
    subscription matches at that moment. RPC requests are
    encoded as ``rpc_content_type`` (JSON by default, what AutoGen Python
    agents read; ``rpc_content_types`` overrides it per agent type, e.g.
    protobuf for .NET agents); replies are encoded as the request was.

    ``auth_token`` (default: the ``AGENTGEN_AUTH_TOKEN`` environment variable;
    ``""`` sends none) goes to the host as ``authorization: Bearer <token>``
    metadata on every call, for hosts started with ``auth_token``.

    Flow control. Each agent has a mailbox of ``mailbox_capacity`` messages;
    publishers in this process wait while it is full. Messages from the host
    never wait on one mailbox: the stream reader queues them (past an
    agent's capacity if need be) and goes on, so a slow agent does not hold
    up the others. What bounds memory is ``backlog_limit``, the messages
    queued in all mailboxes together: when it is reached the worker stops
    reading from the host until a tenth of it has been handled. The host
    then queues at most its ``client_queue_size`` frames for this worker and
    stops reading from the publishers that send it more, whose outboxes
    (``outbox_size``) fill until ``publish_message`` waits: back-pressure
    reaches the publishers of the flood, not the whole system. Replies to
    this worker's RPCs come on a stream of their own (see
    :mod:`~agentgen.runtime.grpc.link`), so an agent awaiting a reply is
    never stuck behind the backlog. Bounded queues in a cycle can still
    stall: agents whose handlers publish, back to their own worker, more
    than they handle can fill both the backlog and the outbox; size
    ``backlog_limit`` and ``outbox_size`` for such loops.
    """

    def __init__(
        self,
        host_address: str | None = None,
        *,
        tls: ClientTls | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        rpc_timeout: float = DEFAULT_RPC_TIMEOUT,
        rpc_content_type: str = JSON_CONTENT_TYPE,
        rpc_content_types: Mapping[str, str] | None = None,
        reconnect: bool = True,
        publish_buffer: int = 10_000,
        publish_timeout: float = 30.0,
        resend_window: int = 1024,
        connect_timeout: float = 10.0,
        reconnect_max_delay: float = 2.0,
        mailbox_capacity: int = DEFAULT_MAILBOX_CAPACITY,
        backlog_limit: int = DEFAULT_BACKLOG_LIMIT,
        outbox_size: int = 10_000,
        auth_token: str | None = None,
        grpc_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        super().__init__(
            rpc_timeout=rpc_timeout,
            mailbox_capacity=mailbox_capacity,
            backlog_limit=backlog_limit,
        )
        token = token_from_environment() if auth_token is None else auth_token
        self._auth_token = check_token(token) if token else None
        self.host_address, https = resolve_worker_target(host_address)
        if tls is None and https:
            from .tls import ClientTls  # here: workers without TLS never import it

            tls = ClientTls()
        self._tls = tls
        content_types = {"": rpc_content_type, **(rpc_content_types or {})}
        for agent_type, content_type in content_types.items():
            if content_type not in _CONTENT_TYPES:
                where = f" for agent type {agent_type!r}" if agent_type else ""
                raise ValueError(
                    f"unsupported RPC content type {content_type!r}{where}: use "
                    f"{JSON_CONTENT_TYPE!r} or {PROTOBUF_CONTENT_TYPE!r}"
                )
        self._rpc_content_type = rpc_content_type
        self._rpc_content_types = dict(rpc_content_types or {})
        if connect_timeout <= 0 or reconnect_max_delay <= 0:
            raise ValueError("connect_timeout and reconnect_max_delay must be positive")
        self._connect_timeout = connect_timeout
        self._reconnect = reconnect
        self._reconnect_max_delay = reconnect_max_delay
        self._outbox_size = outbox_size
        self.max_message_size = max_message_size
        self._options: list[tuple[str, Any]] = [
            *grpc_size_options(max_message_size),
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", int(reconnect_max_delay * 1000)),
            *grpc_options,
        ]
        self.counters = WorkerCounters()
        """Traffic and fault counters."""
        self._codec = PayloadCodec(self.serializers, max_message_size)
        self._buffer = PublishBuffer(
            publish_buffer, publish_timeout, self._held_events_removed
        )
        self._resend = ResendWindow(resend_window, max(max_message_size, _RESEND_BYTES))
        self._recent_events = RecentEventIds(_RECENT_EVENT_IDS)
        self._channel: grpc.aio.Channel | None = None
        self._link: HostLink | None = None
        self._registrations: HostRegistrations | None = None
        self._connected = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._pending = PendingCalls()
        self._stopping = False
        self._unknown_payload_types: set[str] = set()

    # -- state -------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the streams to the host are open and registered."""
        return self._link is not None

    @property
    def publishes_waiting(self) -> int:
        """``publish_message`` calls waiting for a connection to the host."""
        return self._buffer.waiting

    @property
    def queued_for_host(self) -> int:
        """Frames queued on the streams to the host, not yet written."""
        link = self._link
        return 0 if link is None else len(link.serving.outbox) + len(link.calls.outbox)

    @property
    def batched(self) -> bool:
        """Whether the current connection carries several frames per message.

        ``True`` when the host offers the batch stream (an agentgen
        :class:`GrpcHost`), ``False`` on ``OpenChannel`` or when disconnected.
        """
        link = self._link
        return link is not None and link.serving.batched and link.calls.batched

    @property
    def client_id(self) -> str | None:
        """The ``client-id`` of the current connection (new on each reconnect)."""
        return None if self._link is None else self._link.client_id

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        """Connect to the host, register what is registered so far, and run.

        Raises :class:`ConnectionError` when the host cannot be reached
        within ``connect_timeout`` seconds, and
        :class:`~agentgen.runtime.grpc.HostRefusedError` when it refuses an
        agent type registered before ``start()``, and
        :class:`~agentgen.runtime.grpc.AuthenticationError` (a
        :class:`ConnectionError`) at once when it refuses the token.
        """
        await super().start()
        self._stopping = False
        self._connected.clear()
        self._channel = open_host_channel(self.host_address, self._tls, self._options)
        try:
            await self._connect_first()
        except BaseException:
            await self.stop()
            raise
        self._supervisor = asyncio.create_task(
            self._supervise(), name="agentgen-worker-link"
        )

    async def stop(self) -> None:
        """Stop: write what is queued, fail what cannot finish, disconnect."""
        if not self.is_running:
            return
        self._stopping = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        if self._link is not None:
            await self._link.stop_reading()
        await super().stop()

    async def _on_stop(self) -> None:
        link, self._link = self._link, None
        self._registrations = None
        self._connected.clear()
        if link is not None:
            await link.drain(self._connect_timeout)
            self._drop_unsent(link.end("the worker stopped"))
            await link.close("the worker stopped")
        self._pending.fail_all(lambda call: NotDeliveredError("the runtime stopped"))
        self._buffer.fail_all("the runtime stopped")
        self._connected.set()  # wakes RPCs waiting for a connection: they fail
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close(None)

    async def _connect_first(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._connect_timeout
        attempt = 0
        last_error = "timed out"
        while True:
            try:
                await asyncio.wait_for(self._establish(), deadline - loop.time())
                return
            except HostRefusedError:
                raise
            except TimeoutError:
                pass  # keep the reason of an earlier failed attempt, if any
            except (grpc.aio.AioRpcError, ConnectionLostError) as error:
                if _unauthenticated(error):
                    raise self._refused_token(error) from None
                last_error = _describe(error)
            remaining = deadline - loop.time()
            if remaining <= 0:
                hint = (
                    "check the CA (root_certificates) and, under mutual TLS, the "
                    "worker's certificate"
                    if self._tls
                    else "is a host running there? (TLS hosts need tls=ClientTls())"
                )
                raise ConnectionError(
                    f"cannot connect to the agent host at {self.host_address} "
                    f"within {self._connect_timeout:g} s: {last_error}; {hint}"
                )
            await asyncio.sleep(min(self._retry_delay(attempt), remaining))
            attempt += 1

    def _refused_token(self, error: BaseException) -> AuthenticationError:
        sent = "a wrong token" if self._auth_token else "no token"
        return AuthenticationError(
            f"the agent host at {self.host_address} refused the worker: it sent "
            f"{sent} ({_describe(error).partition(':')[0]}); pass the host's token "
            "as GrpcWorkerRuntime(auth_token=...) or set AGENTGEN_AUTH_TOKEN"
        )

    async def _establish(self) -> None:
        """Open both streams, register everything, flush held publishes."""
        channel = self._channel
        assert channel is not None
        # No channel_ready(): a failed call reports why (refused, TLS handshake
        # failed, ...) where waiting for readiness would only time out.
        serving, calls = (
            HostSession(
                channel,
                outbox_limit=self._outbox_size,
                call_timeout=self._connect_timeout,
                on_frame=on_frame,
                on_written=self._written,
                auth_token=self._auth_token,
                counters=self.counters,
            )
            for on_frame in (self._on_frame, self._on_reply_frame)
        )
        link = HostLink(serving, calls)
        try:
            registrations = HostRegistrations(link.serving, self.host_address)
            await link.open()
            await registrations.sync(self._factories, self._subscriptions)
            if link.ended:
                raise ConnectionLostError(link.end_reason)
        except BaseException:
            self._drop_unsent(link.end("connection set-up failed"))
            await link.close("connection set-up failed")
            raise
        outbox = link.serving.outbox
        for entry in self._buffer.take_all():
            outbox.put_urgent(Outgoing(entry.frame, True))
            if entry.waiter is not None and not entry.waiter.done():
                entry.waiter.set_result(None)
        self._link = link
        self._registrations = registrations
        self._connected.set()
        logger.info(
            "connected to the host at %s as client %s (calls as %s)",
            self.host_address,
            link.client_id,
            link.calls.client_id,
        )

    async def _supervise(self) -> None:
        """Watch the connection; after a loss, reconnect with backoff."""
        while True:
            link = self._link
            assert link is not None
            await link.wait_ended()
            await self._lose(link)
            if not self._reconnect:
                logger.error(
                    "lost the connection to the host at %s (client %s): %s; "
                    "reconnect is off, so the worker stays disconnected",
                    self.host_address,
                    link.client_id,
                    link.end_reason,
                )
                return
            logger.warning(
                "lost the connection to the host at %s (client %s): %s; reconnecting",
                self.host_address,
                link.client_id,
                link.end_reason,
            )
            attempt = 0
            while True:
                await asyncio.sleep(self._retry_delay(attempt))
                attempt += 1
                try:
                    await self._establish()
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    # Every tenth failure is a warning; the others are routine.
                    logger.log(
                        logging.WARNING if attempt % 10 == 1 else logging.INFO,
                        "reconnecting to %s failed (attempt %d): %s",
                        self.host_address,
                        attempt,
                        _describe(error),
                    )
            self.counters.reconnects += 1

    async def _lose(self, link: HostLink) -> None:
        if self._link is link:
            self._link = None
            self._registrations = None
            self._connected.clear()
        reason = link.end_reason
        self._keep_for_next_connection(link.end(reason))
        await link.close(reason)
        self._pending.fail_all(
            lambda call: ConnectionLostError(
                f"the connection to the host at {self.host_address} was lost "
                f"before {call.recipient} replied ({reason})"
            )
        )

    def _retry_delay(self, attempt: int) -> float:
        ceiling = min(self._reconnect_max_delay, _FIRST_RETRY_DELAY * 2.0**attempt)
        import random  # here: a worker that never retries does not import it

        return float(ceiling * random.uniform(0.5, 1.0))

    def _written(self, item: Outgoing) -> None:
        self._message_done()
        if item.is_event:
            self._resend.add(item.frame)

    def _keep_for_next_connection(self, unsent: list[Outgoing]) -> None:
        """Events of a lost connection wait for the next one, oldest first.

        First the last events written (they may not have reached the host),
        then those never written; RPC requests and replies are not kept
        (their callers are answered with errors).
        """
        resent = self._resend.take()
        requeued = [item.frame for item in unsent if item.is_event]
        for item in unsent:
            if not item.is_event:
                self._message_done()
        for _ in resent:
            self._begin_work()
        self._buffer.keep_first(
            [(mark_resent(frame), HeldKind.RESENT) for frame in resent]
            + [(frame, HeldKind.ACCEPTED) for frame in requeued]
        )
        self.counters.events_resent += len(resent)
        self.counters.events_requeued += len(requeued)
        if resent or requeued:
            logger.info(
                "%d events written just before the connection was lost and %d "
                "never written will be sent after reconnecting",
                len(resent),
                len(requeued),
            )

    def _drop_unsent(self, unsent: list[Outgoing]) -> None:
        """Frames a closing connection could not write: counted and logged."""
        events = 0
        for item in unsent:
            events += item.is_event
            self._message_done()
        if events:
            self.counters.events_expired += events
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
        self.counters.publishes_refused += kinds[HeldKind.WAITING]
        self.counters.events_expired += kinds[HeldKind.ACCEPTED]
        for _ in entries:
            self._message_done()
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

    # -- registrations on the host -------------------------------------------

    async def _remote_register_type(self, agent_type: str) -> None:
        registrations = self._registrations
        if registrations is None:
            return  # registered on (re)connect
        try:
            await registrations.sync(self._factories, self._subscriptions)
        except grpc.aio.AioRpcError as error:
            self._defer_or_raise(error, f"agent type {agent_type!r}")

    async def _remote_add_subscription(self, subscription: Subscription) -> None:
        registrations = self._registrations
        if registrations is None:
            return
        try:
            await registrations.add_subscription(subscription)
        except grpc.aio.AioRpcError as error:
            self._defer_or_raise(error, repr(subscription))

    async def _remote_remove_subscription(self, subscription_id: str) -> None:
        registrations = self._registrations
        if (
            registrations is None
            or subscription_id not in registrations.subscription_ids
        ):
            return
        try:
            await registrations.remove_subscription(subscription_id)
        except grpc.aio.AioRpcError as error:
            self._defer_or_raise(error, f"removing subscription {subscription_id}")

    def _defer_or_raise(self, error: grpc.aio.AioRpcError, what: str) -> None:
        """A registration call failed without a refusal: retry on reconnect."""
        if self._reconnect and is_connection_failure(error):
            logger.info("%s deferred until reconnected: %s", what, _describe(error))
            return
        raise NotDeliveredError(
            f"the host at {self.host_address} did not take {what}: {_describe(error)}"
        ) from error

    # -- publish -----------------------------------------------------------

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId | None = None,
        *,
        sender: AgentId | None = None,
        message_id: str | None = None,
    ) -> None:
        """Publish ``message`` to ``topic_id`` (default: its type's topic).

        Returns once the event is queued on the stream to the host. While
        disconnected, waits for the reconnection (see the class docstring).
        Raises :class:`~agentgen.runtime.errors.MessageTooLargeError` for a
        message over ``max_message_size`` (nothing is sent).
        """
        self._require_running()
        topic = self.resolve_topic(message, topic_id)
        frame = self._codec.event_frame(
            message, topic, sender, message_id or self.new_message_id()
        )
        check_frame_size(len(frame), self.max_message_size, "the event")
        link = self._link
        self._begin_work()
        if link is not None and await link.serving.outbox.put(Outgoing(frame, True)):
            self.counters.published += 1
            return
        if not self._reconnect:
            self._message_done()
            self.counters.publishes_refused += 1
            raise NotDeliveredError(
                f"not connected to the host at {self.host_address} (reconnect is off)"
            )
        try:
            entry = self._buffer.wait_for_connection(frame)
        except NotDeliveredError:
            self.counters.publishes_refused += 1
            self._message_done()
            raise
        self.counters.publishes_buffered += 1
        assert entry.waiter is not None
        await entry.waiter  # NotDeliveredError past the deadline (counted there)
        self.counters.published += 1

    # -- RPC ---------------------------------------------------------------

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        timeout: float | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Send ``message`` to ``recipient`` through the host; return the reply.

        Never waits longer than ``timeout`` (default: ``rpc_timeout``):
        :class:`~agentgen.runtime.errors.RpcTimeoutError`. Other failures
        raise :class:`~agentgen.runtime.errors.UndeliverableError` (no such
        agent type), :class:`~agentgen.runtime.errors.RemoteError` (the
        handler raised), :class:`~agentgen.runtime.errors.UnexpectedReplyError`
        (it returned nothing or the wrong type),
        :class:`~agentgen.runtime.errors.SerializationError`,
        :class:`~agentgen.runtime.errors.MessageTooLargeError` or
        :class:`~agentgen.runtime.grpc.ConnectionLostError`.
        """
        self._require_running()
        limit = self.rpc_timeout if timeout is None else timeout
        content_type = self._rpc_content_types.get(
            recipient.type, self._rpc_content_type
        )
        type_name, data = self._codec.encode(message, content_type)
        request_id = message_id or self.new_message_id()
        if request_id in self._pending:
            raise ValueError(f"an RPC with id {request_id!r} is already pending")
        frame = request_frame(
            request_id, recipient, sender, type_name, content_type, data
        )
        check_frame_size(len(frame), self.max_message_size, "the request")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        try:
            link = self._link or await self._link_by(
                deadline, recipient, limit, request_id
            )
            reply = self._pending.expect(request_id, recipient)
            # Not asyncio.timeout nor a call_at handle per call: the runtime's
            # one timer for all of them (deadlines.py).
            self._deadlines.add_at(
                loop,
                deadline,
                reply,
                functools.partial(self._expire_call, request_id, recipient, limit),
            )
            try:
                await self._send_request(link.calls, frame, recipient, deadline)
                response = await reply
            finally:
                self._deadlines.release()
            return reply_value(response, self._codec, recipient)
        except AgentgenError:
            self.counters.rpc_failed += 1
            raise
        finally:
            self._pending.discard(request_id)

    def _expire_call(self, request_id: str, recipient: AgentId, limit: float) -> None:
        self._pending.expire(request_id, _no_reply(recipient, limit, request_id))

    async def _link_by(
        self, deadline: float, recipient: AgentId, limit: float, request_id: str
    ) -> HostLink:
        """The connection once made; fails if that takes past ``deadline``."""
        try:
            async with asyncio.timeout_at(deadline):
                while (link := self._link) is None:
                    if not self._reconnect or self._stopping:
                        raise NotDeliveredError(
                            f"not connected to the host at {self.host_address}"
                        )
                    await self._connected.wait()
                return link
        except TimeoutError as error:
            if isinstance(error, RpcTimeoutError):
                raise
            expired = _no_reply(recipient, limit, request_id)
            raise RpcTimeoutError(f"{expired}: not connected to the host") from None

    async def _send_request(
        self, session: HostSession, frame: bytes, recipient: AgentId, deadline: float
    ) -> None:
        self._begin_work()
        item = Outgoing(frame, False)
        if session.outbox.full:
            try:
                async with asyncio.timeout_at(deadline):
                    queued = await session.outbox.put(item)
            except TimeoutError:
                self._message_done()
                raise RpcTimeoutError(
                    f"the request to {recipient} found the stream to the host full "
                    "until its deadline"
                ) from None
        else:
            queued = session.outbox.put_urgent(item)
        if not queued:
            self._message_done()
            raise ConnectionLostError(
                f"the connection to the host was lost before the request to "
                f"{recipient} was sent"
            )
        self.counters.rpc_sent += 1

    # -- receiving ---------------------------------------------------------

    def _on_frame(self, session: HostSession, frame: bytes) -> Awaitable[None] | None:
        """Handle one received frame without waiting.

        Events and requests go to their agents' mailboxes (over capacity if
        need be); replies complete their calls at once. Returns what the
        reader must await before the next frame while the backlog is full.
        """
        self._handle_frame(session, frame)
        backlog = self._backlog
        if backlog.full:
            self.counters.intake_pauses += 1
            return backlog.room()
        return None

    def _on_reply_frame(self, session: HostSession, frame: bytes) -> None:
        """Handle a frame of the calls stream (replies): never pauses it."""
        self._handle_frame(session, frame)

    def _handle_frame(self, session: HostSession, frame: bytes) -> None:
        try:
            message = pb.Message.FromString(frame)
        except DecodeError as error:
            self.counters.malformed_frames += 1
            logger.warning(
                "skipped a malformed %d-byte frame from the host (client %s): %s",
                len(frame),
                session.client_id,
                error,
            )
            return
        kind = message.WhichOneof("message")
        try:
            if kind == "cloudEvent":
                self._on_event(session, message.cloudEvent)
            elif kind == "request":
                self._on_request(session, message.request)
            elif kind == "response":
                self._on_response(message.response)
            else:
                self.counters.unknown_frames += 1
                logger.warning(
                    "skipped a %d-byte frame with no known message from the host "
                    "(client %s)",
                    len(frame),
                    session.client_id,
                )
        except Exception:
            self.counters.internal_errors += 1
            logger.exception(
                "error handling a %s frame from the host (client %s)",
                kind,
                session.client_id,
            )

    def _on_event(self, session: HostSession, event: cloudevent_pb2.CloudEvent) -> None:
        try:
            message, topic, sender = self._codec.decode_event(event)
        except MalformedFrameError as error:
            self.counters.malformed_frames += 1
            logger.warning(
                "skipped an event from the host (client %s): %s",
                session.client_id,
                error,  # names the event by id, type and size, never its content
            )
            return
        if self._recent_events.seen_before(event.id) and is_resent(event):
            self.counters.duplicate_events += 1  # sent again after a reconnection
            return
        self.counters.events_received += 1
        if isinstance(message, UnknownPayload):
            self._skip_unknown(message, event.id, topic)
            return
        self.counters.events_delivered += self._queue_event(
            message, topic, sender, event.id
        )

    def _skip_unknown(
        self, payload: UnknownPayload, message_id: str, topic: TopicId
    ) -> None:
        self.counters.malformed_frames += 1
        type_name = clip(payload.type_name)
        if type_name not in self._unknown_payload_types:
            if len(self._unknown_payload_types) >= _WARNED_TYPES_LIMIT:
                self._unknown_payload_types.clear()
            self._unknown_payload_types.add(type_name)
            logger.warning(
                "skipped event %s on topic %s: no message class here for type %r "
                "(%s); import its _pb2 module or add a serializer (logged once "
                "per type)",
                clip(message_id),
                clip(str(topic)),
                type_name,
                clip(payload.content_type),
            )

    def _on_request(self, session: HostSession, request: pb.RpcRequest) -> None:
        request_id = request.request_id
        content_type = request.payload.data_content_type
        if content_type not in _CONTENT_TYPES:
            content_type = JSON_CONTENT_TYPE
        refuse = functools.partial(self._send_error, session, request_id)
        try:
            target = AgentId(request.target.type, request.target.key)
        except ValueError as error:
            refuse(RpcErrorKind.UNDELIVERABLE, f"invalid target: {error}")
            return
        if target.type not in self._factories:
            refuse(
                RpcErrorKind.UNDELIVERABLE,
                f"agent type {target.type!r} is not registered in this worker",
            )
            return
        payload = request.payload
        try:
            message = self._codec.decode(
                payload.data_type, payload.data_content_type, payload.data
            )
        except SerializationError as error:
            refuse(RpcErrorKind.UNDECODABLE, str(error))
            return
        if isinstance(message, UnknownPayload):
            refuse(
                RpcErrorKind.UNDECODABLE,
                f"the worker of {target} cannot decode {payload.data_type} "
                f"({payload.data_content_type})",
            )
            return
        sender = _agent_id(request.source) if request.HasField("source") else None
        try:
            reply, _, _ = self._queue_request(message, target, sender, request_id)
        except UndeliverableError as error:
            refuse(RpcErrorKind.UNDELIVERABLE, str(error))
            return
        self.counters.rpc_served += 1
        reply.add_done_callback(
            functools.partial(self._send_reply, session, request_id, content_type)
        )

    def _send_reply(
        self,
        session: HostSession,
        request_id: str,
        content_type: str,
        outcome: asyncio.Future[Any],
    ) -> None:
        self._send_now(
            session, reply_frame(self._codec, request_id, content_type, outcome)
        )

    def _send_error(
        self, session: HostSession, request_id: str, kind: RpcErrorKind, reason: str
    ) -> None:
        # The reason goes to the caller only: a parser's text can quote the payload.
        logger.info("refused request %s: %s", clip(request_id), kind.value)
        self._send_now(session, error_response_frame(request_id, kind, reason))

    def _send_now(self, session: HostSession, frame: bytes) -> None:
        """Queue a reply on the stream its request came on, never waiting."""
        if session.outbox.closed:
            # The host has already answered the caller (connection lost).
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("reply dropped: client %s is gone", session.client_id)
            return
        self._begin_work()
        session.outbox.put_urgent(Outgoing(frame, False))

    def _on_response(self, response: pb.RpcResponse) -> None:
        if not self._pending.resolve(response):
            self.counters.unmatched_replies += 1
            logger.info(
                "reply to unknown or finished request %s skipped",
                clip(response.request_id),
            )


def _no_reply(recipient: AgentId, limit: float, request_id: str) -> str:
    return f"no reply from {recipient} within {limit:g} s (request {request_id})"


def _agent_id(wire: pb.AgentId) -> AgentId | None:
    try:
        return AgentId(wire.type, wire.key)
    except ValueError:
        return None


def _unauthenticated(error: BaseException) -> bool:
    return (
        isinstance(error, grpc.aio.AioRpcError)
        and error.code() == grpc.StatusCode.UNAUTHENTICATED
    )


def _describe(error: BaseException) -> str:
    if isinstance(error, grpc.aio.AioRpcError):
        return f"{error.code().name}: {error.details()}"
    if isinstance(error, TimeoutError):
        return "timed out"
    return str(error) or type(error).__name__
