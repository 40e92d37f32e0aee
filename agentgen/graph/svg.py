"""The contract graph as a standalone SVG, laid out here (no Graphviz needed)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from agentgen.graph.ids import node_ids
from agentgen.graph.layout import COLUMN_ORDER, MARGIN, Box, lay_out
from agentgen.graph.model import ContractGraph, Edge, EdgeKind, NodeKind

__all__ = ["render_svg"]

_TITLES = {
    NodeKind.MESSAGE: "Messages",
    NodeKind.TOPIC: "Topics",
    NodeKind.AGENT: "Agents",
}
_FILL = {
    NodeKind.MESSAGE: "#e8f0fe",
    NodeKind.TOPIC: "#fef7e0",
    NodeKind.AGENT: "#e6f4ea",
}
_STROKE = {
    NodeKind.MESSAGE: "#4a6fa5",
    NodeKind.TOPIC: "#b08a1e",
    NodeKind.AGENT: "#3b7d4f",
}
_EDGE_COLOR = {
    EdgeKind.PUBLISHED_TO: "#b08a1e",
    EdgeKind.SUBSCRIBES: "#3b7d4f",
    EdgeKind.HANDLES: "#4a6fa5",
    EdgeKind.RETURNS: "#8e44ad",
}
_DASH = {EdgeKind.HANDLES: ' stroke-dasharray="6 4"'}
_RADIUS = {NodeKind.MESSAGE: 4, NodeKind.TOPIC: 15, NodeKind.AGENT: 8}
# Arrows into and out of one box are spread a little so they stay apart.
_RETURN_OFFSET = 6.0
_FONT = 'font-family="Helvetica, Arial, sans-serif"'


def _edge_path(edge: Edge, source: Box, target: Box) -> tuple[str, float, float]:
    """SVG path data and label anchor for one arrow."""
    if edge.kind is EdgeKind.RETURNS:
        # Right-to-left: leave the agent's left side, enter the message's right side.
        x1, y1 = source.x, source.middle_y + _RETURN_OFFSET
        x2, y2 = target.x + target.width, target.middle_y + _RETURN_OFFSET
    else:
        offset = -_RETURN_OFFSET if edge.kind is EdgeKind.HANDLES else 0.0
        x1, y1 = source.x + source.width, source.middle_y + offset
        x2, y2 = target.x, target.middle_y + offset
    bend = max(abs(x2 - x1) / 2, 40.0)
    direction = 1.0 if x2 >= x1 else -1.0
    c1 = x1 + bend * direction
    c2 = x2 - bend * direction
    path = f"M{x1:.1f},{y1:.1f} C{c1:.1f},{y1:.1f} {c2:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    return path, (x1 + x2) / 2, (y1 + y2) / 2


def _markers() -> list[str]:
    lines = ["  <defs>"]
    for kind, color in _EDGE_COLOR.items():
        lines.append(
            f'    <marker id="arrow-{kind.name.lower()}" viewBox="0 0 10 10" refX="10"'
            ' refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
        )
    lines.append("  </defs>")
    return lines


def render_svg(graph: ContractGraph) -> str:
    """Return an SVG document: column titles, boxes, labelled arrows."""
    layout = lay_out(graph)
    ids = node_ids(graph)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{layout.width:.0f}"'
        f' height="{layout.height:.0f}" viewBox="0 0 {layout.width:.0f}'
        f' {layout.height:.0f}">',
        "  <title>agentgen contract graph</title>",
        *_markers(),
        '  <rect width="100%" height="100%" fill="#ffffff"/>',
    ]
    for kind in COLUMN_ORDER:
        centre = layout.column_x[kind] + layout.column_width[kind] / 2
        lines.append(
            f'  <text x="{centre:.1f}" y="{MARGIN + 14:.1f}" text-anchor="middle"'
            f' {_FONT} font-size="14" font-weight="bold" fill="#333">'
            f"{_TITLES[kind]}</text>"
        )
    for edge in graph.edges:
        path, label_x, label_y = _edge_path(
            edge, layout.boxes[edge.source], layout.boxes[edge.target]
        )
        color = _EDGE_COLOR[edge.kind]
        lines.append(
            f'  <g class="edge {edge.kind.name.lower()}"'
            f' data-source="{ids[edge.source]}" data-target="{ids[edge.target]}">'
        )
        lines.append(
            f'    <path d="{path}" fill="none" stroke="{color}" stroke-width="1.5"'
            f'{_DASH.get(edge.kind, "")}'
            f' marker-end="url(#arrow-{edge.kind.name.lower()})"/>'
        )
        lines.append(
            f'    <text x="{label_x:.1f}" y="{label_y - 4:.1f}" text-anchor="middle"'
            f' {_FONT} font-size="10" fill="{color}" stroke="#ffffff"'
            f' stroke-width="3" paint-order="stroke">{escape(edge.label)}</text>'
        )
        lines.append("  </g>")
    for node in graph.nodes:
        box = layout.boxes[node.key]
        lines.append(
            f'  <g class="node {node.kind.value}" id="{ids[node.key]}">'
            f"<title>{escape(node.label)}</title>"
        )
        lines.append(
            f'    <rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}"'
            f' height="{box.height:.1f}" rx="{_RADIUS[node.kind]}"'
            f' fill="{_FILL[node.kind]}" stroke="{_STROKE[node.kind]}"/>'
        )
        lines.append(
            f'    <text x="{box.x + box.width / 2:.1f}" y="{box.middle_y + 4:.1f}"'
            f' text-anchor="middle" {_FONT} font-size="12" fill="#222">'
            f"{escape(node.label)}</text>"
        )
        lines.append("  </g>")
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
