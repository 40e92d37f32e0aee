"""The spans of agentgen's messages, whatever carries them (OpenTelemetry API).

Imported only once tracing is on (see :mod:`.switch`). Names, kinds and
attributes are AutoGen 0.7.5's (``autogen_core._telemetry``): span
``"autogen <operation> <destination>"``, destination ``"type.(key)-A"`` for
an agent and ``"type.(source)-T"`` for a topic, tracer ``"autogen Worker
Runtime"``. Context travels as a W3C carrier (``traceparent``,
``tracestate``): a string-to-string mapping that each transport puts in its
own headers (CloudEvent attributes, ``RpcRequest.metadata``, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final, Protocol

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from ... import __version__
from ..context import MessageContext
from ..ids import AgentId, TopicId

__all__ = [
    "HOST_TRACER",
    "WORKER_TRACER",
    "Tracing",
    "agent_destination",
    "current_span_ids",
    "message_type_name",
    "topic_destination",
]

WORKER_TRACER: Final = "autogen Worker Runtime"
"""AutoGen's tracer name, for runtimes (in-process, gRPC worker, ...)."""
HOST_TRACER: Final = "agentgen Host"
_PROPAGATOR: Final = TraceContextTextMapPropagator()

Attributes = dict[str, AttributeValue]
Handling = tuple[Span, object]
"""A handler's span and the context token to detach when it ends."""


class Keyed(Protocol):
    """An agent id: ours, or the wire's ``agents.AgentId``."""

    @property
    def type(self) -> str: ...
    @property
    def key(self) -> str: ...


class Sourced(Protocol):
    """A topic id: ours, or a CloudEvent (its ``type`` and ``source``)."""

    @property
    def type(self) -> str: ...
    @property
    def source(self) -> str: ...


def agent_destination(agent_id: Keyed) -> str:
    """``messaging.destination`` of a message to ``agent_id`` (AutoGen's form)."""
    return f"{agent_id.type}.({agent_id.key})-A"


def topic_destination(topic: Sourced) -> str:
    """``messaging.destination`` of a message published to ``topic``."""
    return f"{topic.type}.({topic.source})-T"


def message_type_name(message: Any) -> str:
    """A protobuf message's full name, else its class's name."""
    descriptor = getattr(message, "DESCRIPTOR", None)
    name = getattr(descriptor, "full_name", None)
    return name if isinstance(name, str) else type(message).__qualname__


def current_span_ids() -> tuple[str, str] | None:
    """The current trace and span ids as hex, if a span is current."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")


def remote_context(carrier: Mapping[str, str] | None) -> Context | None:
    """The context a W3C carrier names, if it names a valid one."""
    if not carrier:
        return None
    extracted = _PROPAGATOR.extract(carrier)
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        return None
    return extracted


class Tracing:
    """Makes the spans of one runtime or host (see the module docstring).

    ``links_only``: a receiving span starts a new trace and links to the
    sender's span (AutoGen's behaviour) instead of being its child.
    """

    __slots__ = ("_tracer", "links_only")

    agent_destination = staticmethod(agent_destination)
    topic_destination = staticmethod(topic_destination)

    def __init__(
        self,
        provider: trace.TracerProvider,
        *,
        links_only: bool = False,
        name: str = WORKER_TRACER,
    ) -> None:
        self._tracer = provider.get_tracer(name, __version__)
        self.links_only = links_only

    # -- sending -------------------------------------------------------------

    @contextmanager
    def publishing(
        self,
        topic: TopicId,
        message: Any,
        message_id: str,
        sender: AgentId | None,
    ) -> Iterator[dict[str, str]]:
        """A ``publish`` span around a publish; yields the carrier to send."""
        with self._producing(
            "publish", topic_destination(topic), message, message_id, sender
        ) as carrier:
            yield carrier

    @contextmanager
    def sending(
        self,
        recipient: AgentId,
        message: Any,
        request_id: str,
        sender: AgentId | None,
    ) -> Iterator[dict[str, str]]:
        """A ``send`` span around an RPC until its reply; yields the carrier."""
        with self._producing(
            "send", agent_destination(recipient), message, request_id, sender
        ) as carrier:
            yield carrier

    @contextmanager
    def _producing(
        self,
        operation: str,
        destination: str,
        message: Any,
        message_id: str,
        sender: AgentId | None,
    ) -> Iterator[dict[str, str]]:
        attributes = _attributes("publish", destination, message, message_id)
        if sender is not None:
            attributes["agentgen.sender.id"] = str(sender)
        with self._tracer.start_as_current_span(
            f"autogen {operation} {destination}",
            kind=SpanKind.PRODUCER,
            attributes=attributes,
        ):
            carrier: dict[str, str] = {}
            _PROPAGATOR.inject(carrier)
            yield carrier

    # -- handling --------------------------------------------------------------

    def start_handling(
        self, agent_id: AgentId, message: Any, ctx: MessageContext
    ) -> Handling:
        """Start a handler's ``process`` span, current in the calling task.

        Its parent is the sender's span (``ctx.trace_carrier``), or with
        ``links_only`` none, with a link to it. ``ctx.trace_carrier``
        becomes the new span's.
        """
        destination = agent_destination(agent_id)
        attributes = _attributes("process", destination, message, ctx.message_id)
        attributes["agentgen.agent.id"] = str(agent_id)
        if ctx.sender is not None:
            attributes["agentgen.sender.id"] = str(ctx.sender)
        if ctx.topic_id is not None:
            attributes["agentgen.topic.id"] = str(ctx.topic_id)
        remote = remote_context(ctx.trace_carrier)
        links = None
        parent = Context()  # not the mailbox task's: it is the creator's copy
        if remote is not None:
            if self.links_only:
                links = [Link(trace.get_current_span(remote).get_span_context())]
            else:
                parent = remote
        span = self._tracer.start_span(
            f"autogen process {destination}",
            parent,
            SpanKind.CONSUMER,
            attributes,
            links,
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        own: dict[str, str] = {}
        _PROPAGATOR.inject(own)
        ctx.trace_carrier = own
        return span, token

    @staticmethod
    def end_handling(handling: Handling, failure: BaseException | None) -> None:
        """End a span of :meth:`start_handling`, in the task that started it."""
        span, token = handling
        otel_context.detach(token)  # type: ignore[arg-type]
        if failure is not None:
            record_failure(span, failure)
        span.end()

    # -- routing (a host) ------------------------------------------------------

    @contextmanager
    def routing(
        self,
        destination: str,
        message_type: str,
        message_id: str,
        carrier: Mapping[str, str] | None,
    ) -> Iterator[Span]:
        """A ``route`` span while a host routes a message (child of the sender's)."""
        remote = remote_context(carrier)
        links = None
        parent = Context() if remote is None else remote
        if remote is not None and self.links_only:
            links = [Link(trace.get_current_span(remote).get_span_context())]
            parent = Context()
        attributes = _attributes("receive", destination, None, message_id)
        attributes["messaging.message.type"] = message_type
        with self._tracer.start_as_current_span(
            f"autogen route {destination}",
            parent,
            SpanKind.CONSUMER,
            attributes,
            links,
        ) as span:
            yield span


def record_failure(span: Span, failure: BaseException) -> None:
    """Mark ``span`` failed: an exception is recorded, a cancellation named."""
    if isinstance(failure, Exception):
        span.record_exception(failure)
        description = f"{type(failure).__name__}: {failure}"
    else:
        description = type(failure).__name__
    span.set_status(Status(StatusCode.ERROR, description))


def _attributes(
    operation: str, destination: str, message: Any, message_id: str
) -> Attributes:
    attributes: Attributes = {
        "messaging.operation": operation,
        "messaging.destination": destination,
        "messaging.message.id": message_id,
    }
    if message is not None:
        attributes["messaging.message.type"] = message_type_name(message)
    return attributes
