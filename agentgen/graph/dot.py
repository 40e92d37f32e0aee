"""The contract graph in Graphviz DOT (``dot -Tpng``), one cluster per column."""

from __future__ import annotations

from agentgen.graph.ids import node_ids
from agentgen.graph.model import ContractGraph, EdgeKind, NodeKind

__all__ = ["render_dot"]

_COLUMNS = (
    (NodeKind.MESSAGE, "messages", "Messages", "box", "#e8f0fe"),
    (NodeKind.TOPIC, "topics", "Topics", "ellipse", "#fef7e0"),
    (NodeKind.AGENT, "agents", "Agents", "component", "#e6f4ea"),
)
_STYLES = {
    EdgeKind.PUBLISHED_TO: "solid",
    EdgeKind.SUBSCRIBES: "solid",
    EdgeKind.MATCHES: "dotted",
    EdgeKind.HANDLES: "dashed",
    EdgeKind.RETURNS: "bold",
}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(graph: ContractGraph) -> str:
    """Return a ``digraph`` laid out left to right."""
    ids = node_ids(graph)
    lines = [
        "digraph agentgen {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", style=filled];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for kind, name, title, shape, color in _COLUMNS:
        nodes = graph.of_kind(kind)
        if not nodes:
            continue
        lines.append(f"  subgraph cluster_{name} {{")
        lines.append(f"    label={_quoted(title)};")
        lines.extend(
            f"    {ids[node.key]} [label={_quoted(node.label)}, shape={shape},"
            f" fillcolor={_quoted(color)}];"
            for node in nodes
        )
        lines.append("  }")
    lines.extend(
        f"  {ids[edge.source]} -> {ids[edge.target]}"
        f" [label={_quoted(edge.label)}, style={_STYLES[edge.kind]}];"
        for edge in graph.edges
    )
    lines.append("}")
    return "\n".join(lines) + "\n"
