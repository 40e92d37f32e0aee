"""Telemetry of the in-process runtime: links-only spans, log context, metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from google.protobuf import wrappers_pb2
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)

from agentgen.runtime import (
    Agent,
    AgentId,
    Handler,
    InProcessRuntime,
    MessageContext,
    TopicId,
)
from agentgen.runtime.telemetry import RECORD_ATTRIBUTES, uninstall_log_context

from .span_dump import memory_provider, span_dict

logger = logging.getLogger("tests.telemetry.handler")


class Talker(Agent):
    """Logs what it handles; numbers arrive by publish, texts by RPC."""

    AGENT_TYPE = "talker"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("numbers",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_number", wrappers_pb2.Int64Value, None),
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
    )

    async def on_number(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        logger.warning("number %d", message.value)

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        logger.warning("text")
        if message.value == "fail":
            raise ValueError("asked to fail")
        return message


class Records(logging.Handler):
    """Keeps every record, with the attributes the log context adds."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(
            {name: getattr(record, name) for name in ("msg", *RECORD_ATTRIBUTES)}
        )


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        uninstall_log_context()


async def converse(runtime: InProcessRuntime) -> None:
    if "talker" not in runtime.agent_types:
        await runtime.register_agent_class(Talker)
    async with runtime:
        await runtime.publish_message(
            wrappers_pb2.Int64Value(value=7), TopicId("numbers", "k"), message_id="p1"
        )
        await runtime.send_message(
            wrappers_pb2.StringValue(value="hi"),
            AgentId("talker", "k"),
            message_id="r1",
        )
        await runtime.stop_when_idle()


async def test_links_only_handler_spans_start_a_trace_linked_to_the_sender() -> None:
    provider, exporter = memory_provider()
    await converse(InProcessRuntime(tracer_provider=provider, trace_links_only=True))
    spans = {
        span["name"]: span for span in map(span_dict, exporter.get_finished_spans())
    }
    publish = spans["autogen publish numbers.(k)-T"]
    send = spans["autogen send talker.(k)-A"]
    processes = [
        span_dict(span)
        for span in exporter.get_finished_spans()
        if span.name == "autogen process talker.(k)-A"
    ]
    assert len(processes) == 2
    for process, sender in zip(processes, (publish, send), strict=True):
        assert process["parent_id"] is None
        assert process["trace_id"] != sender["trace_id"]
        assert process["links"] == [[sender["trace_id"], sender["span_id"]]]


async def test_log_records_of_handlers_carry_agent_message_trace_and_span(
    records: Records,
) -> None:
    provider, exporter = memory_provider()
    await converse(InProcessRuntime(tracer_provider=provider))
    spans = {
        span["attributes"]["messaging.message.id"]: span
        for span in map(span_dict, exporter.get_finished_spans())
        if span["kind"] == "CONSUMER"
    }
    assert [record["msg"] for record in records.seen] == ["number %d", "text"]
    for record, message_id in zip(records.seen, ("p1", "r1"), strict=True):
        assert record["agent_id"] == "talker/k"
        assert record["message_id"] == message_id
        assert record["trace_id"] == spans[message_id]["trace_id"]
        assert record["span_id"] == spans[message_id]["span_id"]


async def test_log_records_carry_agent_and_message_with_tracing_off(
    records: Records,
) -> None:
    await converse(InProcessRuntime())  # no provider, none installed globally
    assert [
        (r["agent_id"], r["message_id"], r["trace_id"], r["span_id"])
        for r in records.seen
    ] == [("talker/k", "p1", None, None), ("talker/k", "r1", None, None)]
    logger.warning("outside any handler")
    assert records.seen[-1]["agent_id"] is None
    assert records.seen[-1]["message_id"] is None


async def test_a_failed_handler_marks_its_span_and_the_rpc_span_as_errors() -> None:
    provider, exporter = memory_provider()
    runtime = InProcessRuntime(tracer_provider=provider)
    await runtime.register_agent_class(Talker)
    async with runtime:
        with pytest.raises(Exception, match="asked to fail"):
            await runtime.send_message(
                wrappers_pb2.StringValue(value="fail"), AgentId("talker", "k")
            )
    statuses = {
        span.name: span.status.status_code.name
        for span in exporter.get_finished_spans()
    }
    assert statuses == {
        "autogen process talker.(k)-A": "ERROR",
        "autogen send talker.(k)-A": "ERROR",
    }


async def test_metrics_through_an_opentelemetry_meter_provider() -> None:
    reader = InMemoryMetricReader()
    runtime = InProcessRuntime(meter_provider=MeterProvider(metric_readers=[reader]))
    await converse(runtime)
    data = reader.get_metrics_data()
    assert data is not None
    metrics = {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    handler = metrics["agentgen.handler.duration"]
    assert handler.unit == "s"
    (point,) = handler.data.data_points
    assert isinstance(point, HistogramDataPoint)
    assert point.count == 2
    assert point.attributes == {"agent_type": "talker"}
    (rpc,) = metrics["agentgen.rpc.duration"].data.data_points
    assert isinstance(rpc, HistogramDataPoint)
    assert rpc.count == 1
    (queued,) = metrics["agentgen.runtime.queued_messages"].data.data_points
    assert isinstance(queued, NumberDataPoint)
    assert queued.value == 0
