"""Finished spans as JSON-able dicts, the same in every process of a test.

Used by the test process, by ``traced_child.py`` (agentgen's venv) and by
``autogen_traced_worker.py`` (AutoGen's venv): needs only the OpenTelemetry
SDK. A child prints its spans as one JSON line when it stops.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

__all__ = ["memory_provider", "span_dict", "use_memory_exporter"]


def memory_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    """A tracer provider exporting every finished span to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def use_memory_exporter() -> InMemorySpanExporter:
    """Install :func:`memory_provider`'s provider as the global one."""
    provider, exporter = memory_provider()
    trace.set_tracer_provider(provider)
    return exporter


def span_dict(span: ReadableSpan) -> dict[str, Any]:
    """Name, kind, ids (hex), parent, links, attributes and status of ``span``."""
    context = span.get_span_context()
    assert context is not None
    parent = span.parent
    return {
        "name": span.name,
        "kind": span.kind.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": None if parent is None else format(parent.span_id, "016x"),
        "links": [
            [
                format(link.context.trace_id, "032x"),
                format(link.context.span_id, "016x"),
            ]
            for link in span.links
        ],
        "attributes": dict(span.attributes or {}),
        "status": span.status.status_code.name,
        "scope": (
            None
            if span.instrumentation_scope is None
            else span.instrumentation_scope.name
        ),
        "start": span.start_time,
    }
