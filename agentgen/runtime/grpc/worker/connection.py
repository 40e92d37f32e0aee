"""A worker's connection to the host: made, watched, and remade after a loss.

:class:`Connection` opens the two streams (:mod:`.link`), registers the
worker's agent types and subscriptions (:mod:`.registrations`), and after a
loss reconnects with backoff. What a lost connection had not written, and
the last events it had written (they may have died with the host), wait in
the publish buffer for the next connection, before anything newer (see
:mod:`.redelivery`). Frames it drops are counted and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import grpc

from ...errors import NotDeliveredError
from ...local.work import WorkCount
from ...subscription_table import SubscriptionTable
from ...subscriptions import Subscription
from ..protocol.auth import AuthenticationError
from ..protocol.connection_errors import ConnectionLostError, HostRefusedError
from .carryover import Carryover
from .counters import WorkerCounters
from .inbound import Inbound
from .link import StreamPair
from .pending_calls import PendingCalls
from .registrations import RegistrationSync, describe_failure, is_connection_failure
from .stream import WorkerStream, open_host_channel

if TYPE_CHECKING:
    from ..protocol.tls import ClientTls

__all__ = ["Connection", "ConnectionSettings"]

logger = logging.getLogger("agentgen.runtime.grpc.worker")

_FIRST_RETRY_DELAY = 0.05


class ConnectionSettings:
    """How a worker connects (the options of ``GrpcWorkerRuntime``)."""

    __slots__ = (
        "auth_token",
        "connect_timeout",
        "grpc_options",
        "host_address",
        "outbox_size",
        "reconnect",
        "reconnect_max_delay",
        "tls",
    )

    def __init__(
        self,
        host_address: str,
        *,
        tls: ClientTls | None,
        auth_token: str | None,
        connect_timeout: float,
        reconnect: bool,
        reconnect_max_delay: float,
        outbox_size: int,
        grpc_options: Sequence[tuple[str, Any]],
    ) -> None:
        if connect_timeout <= 0 or reconnect_max_delay <= 0:
            raise ValueError("connect_timeout and reconnect_max_delay must be positive")
        self.host_address = host_address
        self.tls = tls
        self.auth_token = auth_token
        self.connect_timeout = connect_timeout
        self.reconnect = reconnect
        self.reconnect_max_delay = reconnect_max_delay
        self.outbox_size = outbox_size
        self.grpc_options = list(grpc_options)


class Connection:
    """The connection of one worker (see the module docstring).

    ``agent_types`` and ``subscriptions`` are the worker's live tables,
    registered on every new connection.
    """

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        agent_types: Mapping[str, object],
        subscriptions: SubscriptionTable,
        inbound: Inbound,
        pending: PendingCalls,
        counters: WorkerCounters,
        work: WorkCount,
        publish_buffer: int,
        publish_timeout: float,
        resend_window: int,
        max_message_size: int,
    ) -> None:
        self.settings = settings
        self._agent_types = agent_types
        self._subscriptions = subscriptions
        self._inbound = inbound
        self._pending = pending
        self._counters = counters
        self._work = work
        self.carryover = Carryover(
            settings.host_address,
            reconnect=settings.reconnect,
            counters=counters,
            work=work,
            capacity=publish_buffer,
            timeout=publish_timeout,
            resend_window=resend_window,
            max_message_size=max_message_size,
        )
        """Events waiting for the next connection."""
        self.link: StreamPair | None = None
        """The streams of the current connection; ``None`` while disconnected."""
        self._registrations: RegistrationSync | None = None
        self._channel: grpc.aio.Channel | None = None
        self._connected = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    # -- opening and closing -------------------------------------------------

    async def open(self) -> None:
        """Connect (see ``GrpcWorkerRuntime.start`` for the errors), then watch."""
        self._stopping = False
        self._connected.clear()
        settings = self.settings
        self._channel = open_host_channel(
            settings.host_address, settings.tls, settings.grpc_options
        )
        await self._connect_first()
        self._supervisor = asyncio.create_task(
            self._supervise(), name="agentgen-worker-link"
        )

    async def stop_reading(self) -> None:
        """Stop reconnecting and stop handing received frames on (stopping)."""
        self._stopping = True
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        if self.link is not None:
            await self.link.stop_reading()

    async def close(self) -> None:
        """Write what is queued (for up to ``connect_timeout``), then disconnect.

        RPCs still waiting and held publishes fail.
        """
        self._stopping = True
        link, self.link = self.link, None
        self._registrations = None
        self._connected.clear()
        if link is not None:
            await link.drain(self.settings.connect_timeout)
            self.carryover.drop(link.end("the worker stopped"))
            await link.close("the worker stopped")
        self._pending.fail_all(lambda call: NotDeliveredError("the runtime stopped"))
        self.carryover.buffer.fail_all("the runtime stopped")
        self._connected.set()  # wakes RPCs waiting for a connection: they fail
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close(None)

    async def _connect_first(self) -> None:
        settings = self.settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.connect_timeout
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
                last_error = describe_failure(error)
            remaining = deadline - loop.time()
            if remaining <= 0:
                hint = (
                    "check the CA (root_certificates) and, under mutual TLS, the "
                    "worker's certificate"
                    if settings.tls
                    else "is a host running there? (TLS hosts need tls=ClientTls())"
                )
                raise ConnectionError(
                    f"cannot connect to the agent host at {settings.host_address} "
                    f"within {settings.connect_timeout:g} s: {last_error}; {hint}"
                )
            await asyncio.sleep(min(self._retry_delay(attempt), remaining))
            attempt += 1

    def _refused_token(self, error: BaseException) -> AuthenticationError:
        sent = "a wrong token" if self.settings.auth_token else "no token"
        return AuthenticationError(
            f"the agent host at {self.settings.host_address} refused the worker: it "
            f"sent {sent} ({describe_failure(error).partition(':')[0]}); pass the "
            "host's token as GrpcWorkerRuntime(auth_token=...) or set "
            "AGENTGEN_AUTH_TOKEN"
        )

    def _new_stream(self, on_frame: Callable[..., Any]) -> WorkerStream:
        assert self._channel is not None
        settings = self.settings
        # No channel_ready(): a failed call reports why (refused, TLS handshake
        # failed, ...) where waiting for readiness would only time out.
        return WorkerStream(
            self._channel,
            outbox_limit=settings.outbox_size,
            call_timeout=settings.connect_timeout,
            on_frame=on_frame,
            on_written=self.carryover.written,
            reader=self._inbound.reader,
            work=self._work,
            auth_token=settings.auth_token,
        )

    async def _establish(self) -> None:
        """Open both streams, register everything, flush held publishes."""
        inbound = self._inbound
        link = StreamPair(
            self._new_stream(inbound.on_frame),
            self._new_stream(inbound.on_reply_frame),
        )
        try:
            registrations = RegistrationSync(link.serving, self.settings.host_address)
            await link.open()
            await registrations.sync(self._agent_types, self._subscriptions)
            if link.ended:
                raise ConnectionLostError(link.end_reason)
        except BaseException:
            self.carryover.drop(link.end("connection set-up failed"))
            await link.close("connection set-up failed")
            raise
        self.carryover.flush(link.serving)
        self.link = link
        self._registrations = registrations
        self._connected.set()
        logger.info(
            "connected to the host at %s as client %s (calls as %s); agent types "
            "on this host: %s",
            self.settings.host_address,
            link.client_id,
            link.calls.client_id,
            describe_type_sharing(link.serving.type_sharing),
        )

    # -- supervision ---------------------------------------------------------

    async def _supervise(self) -> None:
        """Watch the connection; after a loss, reconnect with backoff."""
        address = self.settings.host_address
        while True:
            link = self.link
            assert link is not None
            await link.wait_ended()
            await self._lose(link)
            if not self.settings.reconnect:
                logger.error(
                    "lost the connection to the host at %s (client %s): %s; "
                    "reconnect is off, so the worker stays disconnected",
                    address,
                    link.client_id,
                    link.end_reason,
                )
                return
            logger.warning(
                "lost the connection to the host at %s (client %s): %s; reconnecting",
                address,
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
                        address,
                        attempt,
                        describe_failure(error),
                    )
            self._counters.reconnects += 1

    async def _lose(self, link: StreamPair) -> None:
        if self.link is link:
            self.link = None
            self._registrations = None
            self._connected.clear()
        reason = link.end_reason
        self.carryover.keep(link.end(reason))
        await link.close(reason)
        self._pending.fail_all(
            lambda call: ConnectionLostError(
                f"the connection to the host at {self.settings.host_address} was "
                f"lost before {call.recipient} replied ({reason})"
            )
        )

    def _retry_delay(self, attempt: int) -> float:
        ceiling = min(
            self.settings.reconnect_max_delay, _FIRST_RETRY_DELAY * 2.0**attempt
        )
        import random  # here: a worker that never retries does not import it

        return float(ceiling * random.uniform(0.5, 1.0))

    async def wait_for_link(self) -> StreamPair:
        """The current connection, or the next one; ``NotDeliveredError`` if none
        will come (reconnect is off, or the worker stops)."""
        while (link := self.link) is None:
            if not self.settings.reconnect or self._stopping:
                raise NotDeliveredError(
                    f"not connected to the host at {self.settings.host_address}"
                )
            await self._connected.wait()
        return link

    # -- registrations on the host -------------------------------------------

    async def register_types(self, agent_type: str) -> None:
        """Register what is new here (after ``agent_type`` was added locally)."""
        registrations = self._registrations
        if registrations is None:
            return  # registered on (re)connect
        try:
            await registrations.sync(self._agent_types, self._subscriptions)
        except grpc.aio.AioRpcError as error:
            self._defer_or_raise(error, f"agent type {agent_type!r}")

    async def add_subscription(self, subscription: Subscription) -> None:
        """Add a subscription on the host (or on the next connection)."""
        registrations = self._registrations
        if registrations is None:
            return
        try:
            await registrations.add_subscription(subscription)
        except grpc.aio.AioRpcError as error:
            self._defer_or_raise(error, repr(subscription))

    async def remove_subscription(self, subscription_id: str) -> None:
        """Remove a subscription from the host (or on the next connection)."""
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
        if self.settings.reconnect and is_connection_failure(error):
            logger.info(
                "%s deferred until reconnected: %s", what, describe_failure(error)
            )
            return
        raise NotDeliveredError(
            f"the host at {self.settings.host_address} did not take {what}: "
            f"{describe_failure(error)}"
        ) from error


def describe_type_sharing(mode: str | None) -> str:
    """A host's type-sharing mode, for a log line."""
    if mode is None:
        return "one worker each (the host does not say; AutoGen hosts work so)"
    return {
        "exclusive": "one worker each (exclusive)",
        "by-key": "shared by key (by-key): each agent key is served by one worker",
        "fan-out": "shared (fan-out): events reach every worker of a type, RPCs "
        "stick to one worker per key",
    }.get(mode, mode)


def _unauthenticated(error: BaseException) -> bool:
    return (
        isinstance(error, grpc.aio.AioRpcError)
        and error.code() == grpc.StatusCode.UNAUTHENTICATED
    )
