"""``GrpcHost``: the host that AutoGen Python workers and agentgen workers join."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import grpc

from ...signals import STOP_SIGNALS, signals_set
from ...telemetry import TelemetryOptions, install_log_context
from ...telemetry import catalog as metrics_catalog
from ...telemetry.metrics import MetricSet
from ...telemetry.runtime_telemetry import start_tracing
from ...wire.size_limits import DEFAULT_MAX_MESSAGE_SIZE, grpc_size_options
from ..protocol.address import split_host_port
from ..protocol.auth import TokenCheck
from ..protocol.tls import ServerTls
from .client_limits import ClientLimits
from .counters import HostCounters
from .placement import TypeSharing
from .router import HostRouter
from .servicer import AgentRpcServicer

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from ...telemetry.prometheus import MetricsServer

__all__ = ["DEFAULT_HOST_ADDRESS", "GrpcHost"]

logger = logging.getLogger("agentgen.runtime.grpc.host")

DEFAULT_HOST_ADDRESS = "127.0.0.1:53071"
HOST_METER = "agentgen.host"
"""The instrumentation scope of the host's metrics."""
_HOLD_BYTES = 64 * 1024 * 1024


class GrpcHost:
    """Serves ``agents.AgentRpc``: routes events and RPCs between workers.

    Wire-compatible with AutoGen's ``GrpcWorkerAgentRuntimeHost``, and unlike
    it, answers every RPC (undeliverable, target disconnected, timed out),
    keeps request ids of different callers apart, and never re-encodes events.
    ``address`` is ``host:port`` (port 0 picks a free port, which
    :attr:`address` reports once started). The options (holding unrouted
    events, RPC timeout, queue sizes, token, limits, batching) are described
    in the README's "Host options"; telemetry (``tracer_provider``,
    ``meter_provider``, ``trace_links_only``, ``metrics_address``: serve
    Prometheus ``/metrics`` there) in its "Observability".
    """

    def __init__(
        self,
        address: str = DEFAULT_HOST_ADDRESS,
        *,
        tls: ServerTls | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        rpc_timeout: float = 60.0,
        client_queue_size: int = 1024,
        hold_unrouted: float = 5.0,
        auth_token: str | None = None,
        limits: ClientLimits | None = None,
        batching: bool = True,
        type_sharing: TypeSharing | str = TypeSharing.EXCLUSIVE,
        grpc_options: Sequence[tuple[str, Any]] = (),
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        trace_links_only: bool = False,
        metrics_address: str | None = None,
    ) -> None:
        self.type_sharing = TypeSharing.parse(type_sharing)
        """How clients share agent types: ``exclusive``, ``by-key`` or ``fan-out``."""
        if rpc_timeout <= 0:
            raise ValueError(f"rpc_timeout must be positive, got {rpc_timeout}")
        self._host, self._port = split_host_port(address)
        self._tls = tls
        self._token_check = None if auth_token is None else TokenCheck(auth_token)
        self._options: list[tuple[str, Any]] = [
            *grpc_size_options(max_message_size),
            # Without this, a second host on the same port would silently share it.
            ("grpc.so_reuseport", 0),
            *grpc_options,
        ]
        self.counters = HostCounters()
        """Traffic and fault counters."""
        self._router = HostRouter(
            rpc_timeout=rpc_timeout,
            outbox_limit=client_queue_size,
            counters=self.counters,
            hold_unrouted=hold_unrouted,
            hold_unrouted_bytes=max(max_message_size, _HOLD_BYTES),
            max_message_size=max_message_size,
            limits=limits,
            type_sharing=self.type_sharing,
        )
        self._batching = batching
        self._server: grpc.aio.Server | None = None
        self._telemetry = TelemetryOptions(
            tracer_provider, meter_provider, trace_links_only
        )
        self._metrics_address = (
            None if metrics_address is None else split_host_port(metrics_address)
        )
        self._metrics_server: MetricsServer | None = None
        self._metric_set: MetricSet | None = None

    @property
    def address(self) -> str:
        """``host:port`` the host listens on (the real port once started)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self._port}"

    @property
    def agent_types(self) -> dict[str, str]:
        """Registered agent types, each with the client id of its (first) worker."""
        return self._router.registry.owners

    @property
    def agent_type_clients(self) -> dict[str, tuple[str, ...]]:
        """Registered agent types, each with the ids of the clients serving it."""
        return {t: tuple(ids) for t, ids in self._router.registry.serving.items()}

    @property
    def metrics_address(self) -> str | None:
        """``host:port`` of the ``/metrics`` endpoint (the real port once started)."""
        if self._metrics_server is not None:
            return self._metrics_server.address
        if self._metrics_address is None:
            return None
        host, port = self._metrics_address
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @property
    def running(self) -> bool:
        """Whether the host is listening."""
        return self._server is not None

    async def start(self) -> None:
        """Start listening; returns once connections are accepted."""
        if self._server is not None:
            raise RuntimeError(f"the host on {self.address} is already running")
        server = grpc.aio.server(options=self._options)
        server.add_generic_rpc_handlers(
            AgentRpcServicer(
                self._router,
                self.counters,
                self._token_check,
                batching=self._batching,
            ).generic_handlers()
        )
        try:
            if self._tls is None:
                port = server.add_insecure_port(self.address)
            else:
                port = server.add_secure_port(self.address, self._tls.credentials())
        except RuntimeError as error:
            cause = (
                "the address is in use or not local, or the TLS certificate "
                "does not match its key"
                if self._tls
                else "the address is in use or not local"
            )
            raise OSError(f"cannot listen on {self.address}: {cause}") from error
        await server.start()
        self._port = port
        self._server = server
        try:
            await self._start_telemetry()
        except BaseException:
            await self.stop(0)
            raise
        logger.info(
            "host listening on %s (%s%s; type sharing: %s)",
            self.address,
            "TLS" if self._tls else "plain",
            ", token required" if self._token_check else "",
            self.type_sharing.value,
        )

    async def stop(self, grace: float | None = 5.0) -> None:
        """Stop: answer pending RPCs, end every stream, stop listening.

        ``grace`` bounds how long in-flight calls may take to finish.
        """
        server, self._server = self._server, None
        if server is None:
            return
        self._router.close()
        metrics_server, self._metrics_server = self._metrics_server, None
        if metrics_server is not None:
            await metrics_server.stop()
        await server.stop(grace)
        logger.info("host on %s stopped", self.address)

    async def _start_telemetry(self) -> None:
        """Tracing, metrics and ``/metrics`` as asked (README "Observability")."""
        router = self._router
        router.tracing = start_tracing(self._telemetry, host=True)
        if router.tracing is not None:
            install_log_context()
        meter_provider = self._telemetry.meter_provider_in_use()
        if meter_provider is None and self._metrics_address is None:
            return
        if self._metric_set is None:  # made once: exported once
            self._metric_set = self._host_metrics()
            if meter_provider is not None:
                from ...telemetry.otel_metrics import export_metrics

                export_metrics(self._metric_set, meter_provider, HOST_METER)
        router.rpc_duration = self._metric_set.histograms[0]
        if self._metrics_address is not None:
            try:
                from ...telemetry.prometheus import MetricsServer
            except ImportError as error:
                raise ImportError(
                    "serving /metrics needs prometheus-client: pip install "
                    "'agentgen[otel]'"
                ) from error
            self._metrics_server = MetricsServer(
                *self._metrics_address, self._metric_set
            )
            await self._metrics_server.start()

    def _host_metrics(self) -> MetricSet:
        metric_set = MetricSet()
        metric_set.histogram(metrics_catalog.HOST_RPC_DURATION, "agent_type")
        metrics_catalog.add_counters(
            metric_set, "host", metrics_catalog.HOST_COUNTERS, self.counters
        )
        router = self._router
        clients = router.registry.clients
        metric_set.add(metrics_catalog.HOST_CLIENTS, lambda: len(clients))
        metric_set.add(metrics_catalog.HOST_QUEUED_FRAMES, lambda: router.queued_frames)
        metric_set.add(metrics_catalog.HOST_HELD_EVENTS, lambda: router.held_events)
        return metric_set

    async def stop_when_signal(
        self,
        grace: float | None = 5.0,
        signals: Sequence[int] = STOP_SIGNALS,
    ) -> None:
        """Run until one of ``signals`` arrives, then :meth:`stop`."""
        received = asyncio.Event()
        with signals_set(received, signals):
            await received.wait()
        await self.stop(grace)

    async def wait_for_termination(self) -> None:
        """Wait until the host is stopped."""
        if self._server is not None:
            await self._server.wait_for_termination()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
