"""The contract graph as a Mermaid flowchart (renders on GitHub, in many editors)."""

from __future__ import annotations

from agentgen.graph.ids import node_ids
from agentgen.graph.model import ContractGraph, EdgeKind, NodeKind

__all__ = ["render_mermaid"]

_COLUMNS = (
    (NodeKind.MESSAGE, "messages", "Messages", '["{}"]'),
    (NodeKind.TOPIC, "topics", "Topics", '(["{}"])'),
    (NodeKind.AGENT, "agents", "Agents", '[["{}"]]'),
)
_ARROWS = {
    EdgeKind.PUBLISHED_TO: "-->",
    EdgeKind.SUBSCRIBES: "-->",
    EdgeKind.MATCHES: "-->",
    EdgeKind.HANDLES: "-.->",
    EdgeKind.RETURNS: "==>",
}


def _text(label: str) -> str:
    return label.replace('"', "#quot;")


def render_mermaid(graph: ContractGraph) -> str:
    """Return ``flowchart LR`` text: one subgraph per column, labelled arrows."""
    ids = node_ids(graph)
    lines = ["flowchart LR"]
    for kind, name, title, shape in _COLUMNS:
        nodes = graph.of_kind(kind)
        if not nodes:
            continue
        lines.append(f'  subgraph {name} ["{title}"]')
        lines.extend(
            f"    {ids[node.key]}{shape.format(_text(node.label))}" for node in nodes
        )
        lines.append("  end")
    lines.extend(
        f'  {ids[edge.source]} {_ARROWS[edge.kind]}|"{_text(edge.label)}"|'
        f" {ids[edge.target]}"
        for edge in graph.edges
    )
    return "\n".join(lines) + "\n"
