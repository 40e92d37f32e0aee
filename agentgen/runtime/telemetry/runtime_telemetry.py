"""A started runtime's telemetry: spans and metrics around its messages.

Transport-independent: a runtime (in-process, gRPC worker, NATS, ...) wraps
its publishes in :meth:`RuntimeTelemetry.publishing` and its RPCs in
:meth:`RuntimeTelemetry.sending`, which yield the W3C carrier to put in the
message's headers (``None`` when only metrics are on); whatever receives a
message passes the carrier it read as ``trace_carrier`` to
``LocalAgents.queue_event``/``queue_request``. The :class:`RuntimeTelemetry`
is also the delivery observer that runs each handler in its span.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from ..context import MessageContext
from ..ids import AgentId, TopicId
from . import logs
from .catalog import HANDLER_DURATION, RPC_DURATION
from .metrics import Histogram, MetricSet
from .switch import TelemetryOptions

if TYPE_CHECKING:
    from .tracing import Handling, Tracing

__all__ = ["RUNTIME_METER", "RuntimeTelemetry", "start_tracing"]

RUNTIME_METER = "agentgen.runtime"
"""The instrumentation scope of runtimes' metrics."""

_Token = tuple["Handling | None", str, float]


class RuntimeTelemetry:
    """Spans (``tracing``) and duration histograms of one started runtime."""

    __slots__ = ("handler_duration", "rpc_duration", "tracing")

    def __init__(
        self,
        tracing: Tracing | None,
        handler_duration: Histogram | None,
        rpc_duration: Histogram | None,
    ) -> None:
        self.tracing = tracing
        self.handler_duration = handler_duration
        self.rpc_duration = rpc_duration

    @classmethod
    def start(
        cls, options: TelemetryOptions, metric_set: Callable[[], MetricSet]
    ) -> RuntimeTelemetry | None:
        """The telemetry a runtime starting now should have; ``None``: none.

        ``metric_set`` returns the runtime's own metrics (called only when
        metrics are on); the handler and RPC histograms are added to it and
        it is exported, unless a previous start did (same set: restarted).
        """
        tracing = start_tracing(options)
        meter_provider = options.meter_provider_in_use()
        if tracing is None and meter_provider is None:
            return None
        handler_duration = rpc_duration = None
        if meter_provider is not None:
            from .otel_metrics import export_metrics

            metrics = metric_set()
            if not metrics.histograms:
                metrics.histogram(HANDLER_DURATION, "agent_type")
                metrics.histogram(RPC_DURATION, "agent_type")
                export_metrics(metrics, meter_provider, RUNTIME_METER)
            handler_duration, rpc_duration = metrics.histograms
        return cls(tracing, handler_duration, rpc_duration)

    # -- sending -------------------------------------------------------------

    @contextmanager
    def publishing(
        self, topic: TopicId, message: Any, message_id: str, sender: AgentId | None
    ) -> Iterator[Mapping[str, str] | None]:
        """Around a publish: yields the carrier to send with it, if tracing."""
        tracing = self.tracing
        if tracing is None:
            yield None
            return
        with tracing.publishing(topic, message, message_id, sender) as carrier:
            yield carrier

    @contextmanager
    def sending(
        self, recipient: AgentId, message: Any, request_id: str, sender: AgentId | None
    ) -> Iterator[Mapping[str, str] | None]:
        """Around an RPC until its outcome: yields the carrier to send with it."""
        started = time.perf_counter()
        try:
            tracing = self.tracing
            if tracing is None:
                yield None
            else:
                with tracing.sending(recipient, message, request_id, sender) as carrier:
                    yield carrier
        finally:
            if self.rpc_duration is not None:
                self.rpc_duration.record(time.perf_counter() - started, recipient.type)

    # -- delivery observer ---------------------------------------------------

    def before(self, agent_id: AgentId, message: Any, ctx: MessageContext) -> object:
        """The handler's span starts (current in the agent's task)."""
        tracing = self.tracing
        handling = (
            None if tracing is None else tracing.start_handling(agent_id, message, ctx)
        )
        token: _Token = (handling, agent_id.type, time.perf_counter())
        return token

    def after(self, token: object, failure: BaseException | None) -> None:
        """The handler's span ends; its duration is recorded."""
        handling, agent_type, started = cast(_Token, token)
        if self.handler_duration is not None:
            self.handler_duration.record(time.perf_counter() - started, agent_type)
        if handling is not None:
            assert self.tracing is not None
            self.tracing.end_handling(handling, failure)


def start_tracing(options: TelemetryOptions, *, host: bool = False) -> Tracing | None:
    """A :class:`~.tracing.Tracing` if tracing is on now, else ``None``.

    Only then is OpenTelemetry imported; log records get span ids from then on.
    """
    provider = options.tracer_provider_in_use()
    if provider is None:
        return None
    from .tracing import HOST_TRACER, WORKER_TRACER, Tracing, current_span_ids

    logs.set_span_ids(current_span_ids)
    return Tracing(
        provider,
        links_only=options.links_only,
        name=HOST_TRACER if host else WORKER_TRACER,
    )
