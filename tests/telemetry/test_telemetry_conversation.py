"""One conversation across four processes is one trace with the right parents.

agentgen worker A (this process, ``tracer_provider=`` given) publishes on
topic ``conversation``; the host (a child) routes it to worker B (a child),
whose relay asks worker C's answerer by RPC and publishes the answer on
``answers``, back to A. B, C and the host find the global SDK provider their
process installed, with no agentgen call. Every process exports to memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, ClassVar

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import Agent, Handler, MessageContext, TopicId
from agentgen.runtime.grpc import GrpcWorkerRuntime

from .span_dump import memory_provider, span_dict
from .traced_processes import HERE, Span, launch, stop_and_collect

pytestmark = pytest.mark.timeout(120)

CHILD = HERE / "traced_child.py"


class Collector(Agent):
    """Receives the answers (in worker A)."""

    AGENT_TYPE = "collector"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("answers",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, None),
    )
    arrived: ClassVar[asyncio.Queue[tuple[str, MessageContext]]]

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> None:
        await Collector.arrived.put((message.value, ctx))


def only(spans: list[Span], name: str) -> Span:
    """The one span called ``name``."""
    found = [span for span in spans if span["name"] == name]
    assert len(found) == 1, (name, [span["name"] for span in spans])
    return found[0]


@pytest.fixture
async def conversation(tmp_path: Path) -> AsyncIterator[dict[str, list[Span]]]:
    """Run the conversation once; the spans of each process, by process."""
    provider, exporter = memory_provider()
    Collector.arrived = asyncio.Queue()
    async with AsyncExitStack() as children:
        host, ready = await launch("host", CHILD, ["host"], tmp_path)
        children.push_async_callback(host.close)
        address = ready["address"]
        relay, _ = await launch("relay", CHILD, ["relay", address], tmp_path)
        children.push_async_callback(relay.close)
        answerer, _ = await launch("answerer", CHILD, ["answerer", address], tmp_path)
        children.push_async_callback(answerer.close)
        async with GrpcWorkerRuntime(address, tracer_provider=provider) as worker:
            await worker.register_agent_class(Collector)
            await worker.publish_message(
                wrappers_pb2.StringValue(value="hello"),
                TopicId("conversation", "k1"),
                message_id="question-1",
            )
            async with asyncio.timeout(20):
                answer, _ = await Collector.arrived.get()
            assert answer == "answer:hello"
        spans: dict[str, Any] = {
            "relay": await stop_and_collect(relay),
            "answerer": await stop_and_collect(answerer),
            "host": await stop_and_collect(host),
        }
    spans["worker"] = [span_dict(span) for span in exporter.get_finished_spans()]
    yield spans


async def test_the_conversation_is_one_trace_with_the_right_parents(
    conversation: dict[str, list[Span]],
) -> None:
    worker, host = conversation["worker"], conversation["host"]
    relay, answerer = conversation["relay"], conversation["answerer"]
    question = only(worker, "autogen publish conversation.(k1)-T")
    relayed = only(relay, "autogen process relay.(k1)-A")
    asked = only(relay, "autogen send answerer.(k1)-A")
    answered = only(answerer, "autogen process answerer.(k1)-A")
    published = only(relay, "autogen publish answers.(k1)-T")
    collected = only(worker, "autogen process collector.(k1)-A")
    routes = {
        name: only(host, f"autogen route {name}")
        for name in ("conversation.(k1)-T", "answerer.(k1)-A", "answers.(k1)-T")
    }

    everything = [span for spans in conversation.values() for span in spans]
    assert {span["trace_id"] for span in everything} == {question["trace_id"]}
    assert question["parent_id"] is None
    # Each handler is the child of the span that sent its message; the host's
    # route spans too (it reads the context, and forwards the bytes unchanged).
    for child, parent in [
        (relayed, question),
        (routes["conversation.(k1)-T"], question),
        (asked, relayed),
        (answered, asked),
        (routes["answerer.(k1)-A"], asked),
        (published, relayed),
        (collected, published),
        (routes["answers.(k1)-T"], published),
    ]:
        assert child["parent_id"] == parent["span_id"], (child["name"], parent["name"])
    assert len(everything) == 9  # nothing else was traced


async def test_the_trace_renders_as_a_tree(
    conversation: dict[str, list[Span]],
) -> None:
    # The README shows this rendering (Observability).
    tree = render_tree(conversation)
    print("\n".join(tree))
    assert [line.split("  [")[0] for line in tree] == [
        "autogen publish conversation.(k1)-T",
        "├── autogen route conversation.(k1)-T",
        "└── autogen process relay.(k1)-A",
        "    ├── autogen send answerer.(k1)-A",
        "    │   ├── autogen route answerer.(k1)-A",
        "    │   └── autogen process answerer.(k1)-A",
        "    └── autogen publish answers.(k1)-T",
        "        ├── autogen route answers.(k1)-T",
        "        └── autogen process collector.(k1)-A",
    ]


def render_tree(spans_by_process: dict[str, list[Span]]) -> list[str]:
    """The spans as a tree, children by start time (one clock: one machine)."""
    spans = [
        {**span, "process": process}
        for process, found in spans_by_process.items()
        for span in found
    ]
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        children.setdefault(span["parent_id"], []).append(span)
    lines: list[str] = []

    def walk(span: Span, prefix: str, branch: str, rest: str) -> None:
        lines.append(
            f"{prefix}{branch}{span['name']}  [{span['process']}, "
            f"{span['kind'].lower()}, span {span['span_id'][:8]}]"
        )
        below = sorted(children.get(span["span_id"], []), key=lambda s: s["start"])
        for index, child in enumerate(below):
            last = index == len(below) - 1
            walk(
                child,
                prefix + rest,
                "└── " if last else "├── ",
                "    " if last else "│   ",
            )

    for root in children.get(None, []):
        lines.append(f"trace {root['trace_id']}")
        walk(root, "", "", "")
    return lines[1:]


async def test_spans_have_autogen_names_kinds_and_messaging_attributes(
    conversation: dict[str, list[Span]],
) -> None:
    question = only(conversation["worker"], "autogen publish conversation.(k1)-T")
    assert question["kind"] == "PRODUCER"
    assert question["scope"] == "autogen Worker Runtime"
    assert question["attributes"] == {
        "messaging.operation": "publish",
        "messaging.destination": "conversation.(k1)-T",
        "messaging.message.id": "question-1",
        "messaging.message.type": "google.protobuf.StringValue",
    }
    relayed = only(conversation["relay"], "autogen process relay.(k1)-A")
    assert relayed["kind"] == "CONSUMER"
    assert relayed["attributes"] == {
        "messaging.operation": "process",
        "messaging.destination": "relay.(k1)-A",
        "messaging.message.id": "question-1",
        "messaging.message.type": "google.protobuf.StringValue",
        "agentgen.agent.id": "relay/k1",
        "agentgen.topic.id": "conversation/k1",
    }
    asked = only(conversation["relay"], "autogen send answerer.(k1)-A")
    assert asked["kind"] == "PRODUCER"
    assert asked["attributes"]["agentgen.sender.id"] == "relay/k1"
    answered = only(conversation["answerer"], "autogen process answerer.(k1)-A")
    assert answered["attributes"]["agentgen.sender.id"] == "relay/k1"
    route = only(conversation["host"], "autogen route answerer.(k1)-A")
    # The host names the request by the caller's id; the handler sees the
    # host's own id for it (request ids are rewritten per target).
    assert route["attributes"]["messaging.message.id"] == (
        asked["attributes"]["messaging.message.id"]
    )
    assert route["scope"] == "agentgen Host"
    assert route["kind"] == "CONSUMER"
    assert route["attributes"]["messaging.destination"] == "answerer.(k1)-A"
    assert route["attributes"]["messaging.message.type"] == (
        "google.protobuf.StringValue"
    )
    assert all(
        span["status"] == "UNSET" for spans in conversation.values() for span in spans
    )
