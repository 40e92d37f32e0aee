"""Generated agents and clients at work, in process and on a NATS worker.

The golden contracts are compiled by real protoc; the agents are the user code
in ``tests/golden/user/golden_impl.py``.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.protobuf import empty_pb2, timestamp_pb2, wrappers_pb2
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from agentgen.runtime import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    AgentId,
    InProcessRuntime,
    NoDefaultTopicError,
    RemoteError,
    Subscription,
    TopicId,
    TypePrefixSubscription,
    TypeSubscription,
    UndeliverableError,
)
from agentgen.runtime.nats import NatsWorkerRuntime
from tests.support.protoc import importable

from .golden import GOLDEN_DIR

Runtime = InProcessRuntime | NatsWorkerRuntime

USER_CODE = GOLDEN_DIR / "user"
RPC_TIMEOUT_SECONDS = 10.0


class Golden:
    """The generated modules and the user's agents, imported for one test module."""

    def __init__(self) -> None:
        self.messages = importlib.import_module("chat.v1.messages_pb2")
        self.messages_agents = importlib.import_module("chat.v1.messages_agents")
        self.agents = importlib.import_module("chat.v1.agents_agents")
        self.search = importlib.import_module("tools.search_pb2")
        self.kitchen = importlib.import_module("kitchen.v1.kitchen_sink_pb2")
        self.kitchen_agents = importlib.import_module("kitchen.v1.kitchen_sink_agents")
        self.nopackage = importlib.import_module("nopackage_pb2")
        self.ledger = importlib.import_module("ledger.ledger_pb2")
        self.user = importlib.import_module("golden_impl")


@pytest.fixture(scope="module")
def golden(golden_out: Path) -> Iterator[Golden]:
    with importable(golden_out), importable(USER_CODE):
        yield Golden()


@pytest.fixture(params=["in-process", "nats"])
async def runtime(
    request: pytest.FixtureRequest, nats_namespace: str
) -> AsyncIterator[Runtime]:
    """The runtime the generated agents run on: in process, or one NATS worker.

    (One NATS worker owns every key: its deliveries take the same local path
    as in process; the cross-worker paths are tested in tests/nats.)
    """
    rt: Runtime
    if request.param == "nats":
        server = request.getfixturevalue("nats_session_server")
        rt = NatsWorkerRuntime(
            server.url,
            namespace=nats_namespace,
            lease=3,
            rpc_timeout=RPC_TIMEOUT_SECONDS,
        )
    else:
        rt = InProcessRuntime(rpc_timeout=RPC_TIMEOUT_SECONDS)
    await rt.start()
    yield rt
    if rt.is_running:
        await rt.stop()


async def _assistant(runtime: Runtime, golden: Golden, key: str) -> Any:
    agent = await runtime.get_agent(AgentId("Assistant", key))
    assert isinstance(agent, golden.user.Assistant)
    return agent


def _handled(agent: Any) -> list[tuple[str, str, str]]:
    """(handler, topic type, topic source) of each message an agent received."""
    return [
        (name, ctx.topic_id.type, ctx.topic_id.source)
        for name, _, ctx in agent.received
        if ctx.topic_id is not None
    ]


async def test_register_registers_the_type_and_its_subscriptions(
    runtime: Runtime, golden: Golden
) -> None:
    agent_type = await golden.user.Assistant.register(runtime)

    assert agent_type == "Assistant"
    subscriptions = {
        (type(sub).__name__, _subscribed_to(sub))
        for sub in runtime.subscriptions
        if sub.agent_type == "Assistant"
    }
    assert subscriptions == {
        ("TypeSubscription", "chat.messages"),
        ("TypeSubscription", "default"),
        ("TypePrefixSubscription", "chat.events:"),
        ("TypePrefixSubscription", "Assistant:"),
    }


def _subscribed_to(subscription: Subscription) -> str:
    if isinstance(subscription, TypeSubscription):
        return subscription.topic_type
    assert isinstance(subscription, TypePrefixSubscription)
    return subscription.topic_type_prefix


async def test_published_messages_reach_type_prefix_and_default_subscriptions(
    runtime: Runtime, golden: Golden
) -> None:
    await golden.user.Assistant.register(runtime)
    m = golden.messages
    await runtime.publish_message(
        m.ChatMessage(text="hi"), TopicId("chat.messages", "c1")
    )
    await runtime.publish_message(
        m.UserJoined(user="ann"), TopicId("chat.events:joined", "c1")
    )
    await runtime.publish_message(m.SummaryRequest(), TopicId("default", "c1"))
    await runtime.publish_message(m.ChatMessage(text="no"), TopicId("other", "c1"))
    assistant = await _assistant(runtime, golden, "c1")

    await runtime.stop_when_idle()

    assert _handled(assistant) == [
        ("respond", "chat.messages", "c1"),
        ("import_", "chat.events:joined", "c1"),
        ("summarize", "default", "c1"),
    ]
    assert all(not ctx.is_rpc for _, _, ctx in assistant.received)


async def test_publish_without_topic_uses_the_message_default_topic(
    runtime: Runtime, golden: Golden
) -> None:
    await golden.user.Assistant.register(runtime)
    m = golden.messages

    await runtime.publish_message(m.ChatMessage(text="hello"))
    await runtime.publish_message(m.UserJoined(user="bob"))
    assistant = await _assistant(runtime, golden, "default")
    await runtime.stop_when_idle()

    assert _handled(assistant) == [
        ("respond", "chat.messages", "default"),
        ("import_", "chat.events:joined", "default"),
    ]


async def test_publish_without_topic_or_default_topic_is_refused(
    runtime: Runtime, golden: Golden
) -> None:
    with pytest.raises(NoDefaultTopicError, match=r"chat\.v1\.Reply"):
        await runtime.publish_message(golden.messages.Reply(text="x"))


async def test_typed_client_rpcs_return_typed_replies(
    runtime: Runtime, golden: Golden
) -> None:
    await golden.user.Assistant.register(runtime)
    client = golden.agents.AssistantClient(runtime, "c7")
    m, search = golden.messages, golden.search

    reply = await client.respond(m.ChatMessage(text="hello"))
    summary = await client.summarize(m.SummaryRequest(conversation_id="c7"))
    results = await client.search(search.SearchQuery(text="q", site="example.org"))

    assert reply == m.Reply(text="re: hello", confidence=0.5)
    assert summary == m.Summary(text="c7 in brief")
    assert [hit.url for hit in results.hits] == ["https://example.org/"]
    assistant = await _assistant(runtime, golden, "c7")
    assert [name for name, _, _ in assistant.received] == [
        "respond",
        "summarize",
        "search",
    ]
    assert all(ctx.is_rpc for _, _, ctx in assistant.received)


async def test_empty_handlers_return_none_to_the_client(
    runtime: Runtime, golden: Golden
) -> None:
    await golden.user.Assistant.register(runtime)
    client = golden.agents.AssistantClient(runtime, "c8")

    joined = await client.import_(golden.messages.UserJoined(user="cy"))
    closed = await client.close_(empty_pb2.Empty())

    assert joined is None
    assert closed is None
    assistant = await _assistant(runtime, golden, "c8")
    assert [name for name, _, _ in assistant.received] == ["import_", "close_"]


async def test_a_raising_handler_makes_the_client_raise_remote_error(
    runtime: Runtime, golden: Golden
) -> None:
    await golden.user.Assistant.register(runtime)
    client = golden.agents.AssistantClient(runtime)

    with pytest.raises(RemoteError) as raised:
        await client.respond(golden.messages.ChatMessage(text="fail"))

    assert raised.value.remote_type == "ValueError"
    assert "cannot answer 'fail'" in raised.value.remote_message


async def test_rpc_to_an_unregistered_agent_type_raises_at_once(
    runtime: Runtime, golden: Golden
) -> None:
    client = golden.agents.ModeratorClient(runtime)

    with pytest.raises(UndeliverableError, match="moderator"):
        await client.http_check(golden.messages.ChatMessage(text="x"))


async def test_agents_with_nested_and_well_known_types(
    runtime: Runtime, golden: Golden
) -> None:
    await golden.user.Sink.register(runtime, agent_type="sink")
    client = golden.kitchen_agents.SinkClient(runtime, agent_type="sink")
    k = golden.kitchen
    inner = k.Outer.Middle.Inner(value="v", children={"a": k.Outer.Middle.Inner()})

    inspected = await client.inspect(inner)
    wrapped = await client.wrap(wrappers_pb2.StringValue(value="four"))
    middle = await client.take(k.Outer(middle=k.Outer.Middle(kind=k.Outer.KIND_A)))
    stamped = await client.stamp(timestamp_pb2.Timestamp(seconds=1))

    assert dict(inspected) == {"value": "v", "children": 1.0}
    assert wrapped == wrappers_pb2.Int64Value(value=4)
    assert middle == k.Outer.Middle(kind=k.Outer.KIND_A)
    assert stamped is None


async def test_agents_from_a_file_without_package_and_an_editions_file(
    runtime: Runtime, golden: Golden
) -> None:
    await golden.user.Echo.register(runtime)
    await golden.user.Bookkeeper.register(runtime)
    echo = importlib.import_module("nopackage_agents").EchoClient(runtime)
    books = importlib.import_module("ledger.ledger_agents").BookkeeperClient(runtime)

    pong = await echo.ping(golden.nopackage.Ping(sequence=41))
    await books.record(golden.ledger.Entry(account="a", cents=250))
    balance = await books.record(golden.ledger.Entry(account="a", cents=-50))

    assert pong.sequence == 42
    assert balance.cents == 200


def _message_classes(module: ModuleType) -> list[type[Message]]:
    """Every message class of a ``_pb2`` module, nested ones included."""
    found: list[type[Message]] = []

    def walk(owner: Any, descriptors: list[Descriptor]) -> None:
        for descriptor in descriptors:
            if descriptor.GetOptions().map_entry:
                continue
            cls = getattr(owner, descriptor.name)
            found.append(cls)
            walk(cls, list(descriptor.nested_types))

    walk(module, list(module.DESCRIPTOR.message_types_by_name.values()))
    return found


def _is_repeated(field: Any) -> bool:
    """``is_repeated`` is new in protobuf 6; 5.29 has only ``label`` (gone in 7)."""
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:
        return bool(field.label == field.LABEL_REPEATED)
    return bool(repeated)


def _sample(cls: type[Message]) -> Message:
    """An instance with its string and integer scalar fields set."""
    message = cls()
    for field in cls.DESCRIPTOR.fields:
        if _is_repeated(field) or field.containing_oneof is not None:
            continue
        if field.type == field.TYPE_STRING:
            setattr(message, field.name, f"{field.name}-value")
        elif field.type in (field.TYPE_INT32, field.TYPE_INT64):
            setattr(message, field.name, 7)
    return message


@pytest.mark.parametrize(
    "module_name",
    [
        "chat.v1.messages",
        "kitchen.v1.kitchen_sink",
        "tools.search",
        "nopackage",
        "ledger.ledger",
        "workflow.planner",
    ],
)
def test_serializers_round_trip_every_message_in_both_encodings(
    golden: Golden, module_name: str
) -> None:
    pb2 = importlib.import_module(f"{module_name}_pb2")
    table = importlib.import_module(f"{module_name}_agents").SERIALIZERS
    classes = _message_classes(pb2)

    assert set(table) == {
        (cls.DESCRIPTOR.full_name, content_type)
        for cls in classes
        for content_type in (PROTOBUF_CONTENT_TYPE, JSON_CONTENT_TYPE)
    }
    for cls in classes:
        message = _sample(cls)
        for content_type in (PROTOBUF_CONTENT_TYPE, JSON_CONTENT_TYPE):
            serializer = table[(cls.DESCRIPTOR.full_name, content_type)]
            assert serializer.deserialize(serializer.serialize(message)) == message


def test_topics_map_the_annotated_message_classes(golden: Golden) -> None:
    m, k = golden.messages, golden.kitchen

    assert {
        m.ChatMessage: "chat.messages",
        m.UserJoined: "chat.events:joined",
    } == golden.messages_agents.TOPICS
    assert {k.Outer.Middle.Inner: "kitchen.inner"} == golden.kitchen_agents.TOPICS
    assert golden.agents.TOPICS == {}
