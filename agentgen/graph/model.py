"""The contract graph: which agent subscribes to which topic, which message goes where.

Built from a ``FileDescriptorSet`` of annotated contracts: every service with
``(agentgen.agent)`` is an agent; its subscriptions (topic types, prefixes, the
default topic) are topics; each rpc is a handled message and, unless it returns
``google.protobuf.Empty``, a returned message; ``(agentgen.topic)`` on a message
links the message to the topic it is published to by default.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    FileDescriptorProto,
    FileDescriptorSet,
)

from agentgen.generator.annotations import AgentOptions, agent_options, message_topic

__all__ = [
    "DEFAULT_TOPIC",
    "ContractGraph",
    "Edge",
    "EdgeKind",
    "Node",
    "NodeKind",
    "build_contract_graph",
]

DEFAULT_TOPIC = "default"
_EMPTY = "google.protobuf.Empty"


class NodeKind(enum.Enum):
    """The three columns of the drawing, left to right."""

    MESSAGE = "message"
    TOPIC = "topic"
    AGENT = "agent"


class EdgeKind(enum.Enum):
    """What an arrow means; the value is its label."""

    PUBLISHED_TO = "topic"
    SUBSCRIBES = "subscribes"
    MATCHES = "matches"
    """A concrete topic reaching an agent through one of its prefix subscriptions."""
    HANDLES = "handles"
    RETURNS = "returns"


@dataclass(frozen=True, order=True)
class Node:
    """One box. ``key`` is unique within the graph and stable across runs."""

    kind_order: int
    label: str
    kind: NodeKind = field(compare=False)
    key: str = field(compare=False)


@dataclass(frozen=True)
class Edge:
    """An arrow from ``source`` to ``target`` (node keys)."""

    source: str
    target: str
    kind: EdgeKind
    label: str


@dataclass(frozen=True)
class ContractGraph:
    """Nodes in drawing order (messages, topics, agents; each sorted) and edges."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def of_kind(self, kind: NodeKind) -> tuple[Node, ...]:
        """The nodes of one column, in order."""
        return tuple(node for node in self.nodes if node.kind is kind)


_KIND_ORDER = {NodeKind.MESSAGE: 0, NodeKind.TOPIC: 1, NodeKind.AGENT: 2}


def _node(kind: NodeKind, label: str) -> Node:
    return Node(_KIND_ORDER[kind], label, kind, f"{kind.value}:{label}")


def _nested_messages(
    prefix: str, messages: Iterable[DescriptorProto]
) -> Iterable[tuple[str, DescriptorProto]]:
    for message in messages:
        full_name = f"{prefix}{message.name}"
        yield full_name, message
        yield from _nested_messages(f"{full_name}.", message.nested_type)


def _package_prefix(file: FileDescriptorProto) -> str:
    return f"{file.package}." if file.package else ""


def _message_topics(files: Iterable[FileDescriptorProto]) -> dict[str, str]:
    """Full message name -> its ``(agentgen.topic)``, for annotated messages."""
    topics: dict[str, str] = {}
    for file in files:
        for full_name, message in _nested_messages(
            _package_prefix(file), file.message_type
        ):
            topic = message_topic(message)
            if topic:
                topics[full_name] = topic
    return topics


class _GraphBuilder:
    def __init__(self) -> None:
        self.nodes: set[Node] = set()
        self.edges: dict[tuple[str, str, EdgeKind], Edge] = {}

    def add(self, kind: NodeKind, label: str) -> Node:
        node = _node(kind, label)
        self.nodes.add(node)
        return node

    def connect(self, source: Node, target: Node, kind: EdgeKind, label: str) -> None:
        self.edges.setdefault(
            (source.key, target.key, kind),
            Edge(source.key, target.key, kind, label),
        )

    def build(self) -> ContractGraph:
        order = {node.key: index for index, node in enumerate(sorted(self.nodes))}
        edges = sorted(
            self.edges.values(),
            key=lambda edge: (order[edge.source], order[edge.target], edge.kind.value),
        )
        return ContractGraph(tuple(sorted(self.nodes)), tuple(edges))


def build_contract_graph(
    descriptor_set: FileDescriptorSet, contract_files: Sequence[str] | None = None
) -> ContractGraph:
    """Read agents, topics and messages from ``descriptor_set``.

    Only services of ``contract_files`` (all files when ``None``) become agents;
    topics of messages are read from every file, so imported messages keep theirs.
    """
    files = list(descriptor_set.file)
    wanted = set(contract_files) if contract_files is not None else None
    message_topics = _message_topics(files)
    builder = _GraphBuilder()
    for full_name, topic in message_topics.items():
        builder.connect(
            builder.add(NodeKind.MESSAGE, full_name),
            builder.add(NodeKind.TOPIC, topic),
            EdgeKind.PUBLISHED_TO,
            EdgeKind.PUBLISHED_TO.value,
        )
    for file in files:
        if wanted is not None and file.name not in wanted:
            continue
        for service in file.service:
            options = agent_options(service)
            if options is None:
                continue
            agent = builder.add(NodeKind.AGENT, options.type or service.name)
            _add_subscriptions(builder, agent, options, message_topics.values())
            for method in service.method:
                request = method.input_type.lstrip(".")
                response = method.output_type.lstrip(".")
                builder.connect(
                    builder.add(NodeKind.MESSAGE, request),
                    agent,
                    EdgeKind.HANDLES,
                    method.name,
                )
                if response != _EMPTY:
                    builder.connect(
                        agent,
                        builder.add(NodeKind.MESSAGE, response),
                        EdgeKind.RETURNS,
                        EdgeKind.RETURNS.value,
                    )
    return builder.build()


def _add_subscriptions(
    builder: _GraphBuilder,
    agent: Node,
    options: AgentOptions,
    known_topics: Iterable[str],
) -> None:
    topics = list(options.subscribe)
    if options.default_subscription:
        topics.append(DEFAULT_TOPIC)
    for topic in topics:
        builder.connect(
            builder.add(NodeKind.TOPIC, topic),
            agent,
            EdgeKind.SUBSCRIBES,
            EdgeKind.SUBSCRIBES.value,
        )
    for prefix in options.subscribe_prefix:
        builder.connect(
            builder.add(NodeKind.TOPIC, f"{prefix}*"),
            agent,
            EdgeKind.SUBSCRIBES,
            "subscribes (prefix)",
        )
        for topic in sorted(set(known_topics) - set(topics)):
            if topic.startswith(prefix):
                builder.connect(
                    builder.add(NodeKind.TOPIC, topic),
                    agent,
                    EdgeKind.MATCHES,
                    f"via {prefix}*",
                )
