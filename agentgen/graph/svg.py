"""The contract graph as a standalone SVG, laid out here (no Graphviz needed)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from agentgen.graph.ids import node_ids
from agentgen.graph.layout import COLUMN_ORDER, MARGIN, Layout, Point, Route, lay_out
from agentgen.graph.model import ContractGraph, EdgeKind, NodeKind

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
_RADIUS = {NodeKind.MESSAGE: 4, NodeKind.TOPIC: 15, NodeKind.AGENT: 8}
_EDGE_COLOR = {
    EdgeKind.PUBLISHED_TO: "#b08a1e",
    EdgeKind.SUBSCRIBES: "#3b7d4f",
    EdgeKind.MATCHES: "#3b7d4f",
    EdgeKind.HANDLES: "#4a6fa5",
    EdgeKind.RETURNS: "#8e44ad",
}
_DASH = {EdgeKind.HANDLES: "6 4", EdgeKind.MATCHES: "2 3"}
_LEGEND = {
    EdgeKind.PUBLISHED_TO: "default topic of a message",
    EdgeKind.SUBSCRIBES: "agent subscribes",
    EdgeKind.MATCHES: "reaches agent via a prefix",
    EdgeKind.HANDLES: "handler (rpc name)",
    EdgeKind.RETURNS: "handler returns",
}
# Only these arrows carry a label on the drawing; every arrow has a tooltip.
_LABELLED = frozenset({EdgeKind.HANDLES, EdgeKind.MATCHES, EdgeKind.RETURNS})
_FONT = 'font-family="Helvetica, Arial, sans-serif"'
_LEGEND_ROW = 20.0
_LEGEND_SAMPLE = 34.0
_LEGEND_CHAR_WIDTH = 6.2
_LEGEND_SPACING = 24.0
_MIN_BEND = 30.0


def _curve(start: Point, end: Point) -> str:
    """A cubic segment leaving and entering horizontally."""
    bend = max(abs(end[0] - start[0]) / 2, _MIN_BEND)
    direction = 1.0 if end[0] >= start[0] else -1.0
    return (
        f"C{start[0] + bend * direction:.1f},{start[1]:.1f} "
        f"{end[0] - bend * direction:.1f},{end[1]:.1f} {end[0]:.1f},{end[1]:.1f}"
    )


def _path(route: Route) -> str:
    start = f"M{route.start[0]:.1f},{route.start[1]:.1f}"
    if route.lane is None:
        return f"{start} {_curve(route.start, route.end)}"
    entry, exit_ = route.lane
    return (
        f"{start} {_curve(route.start, entry)} L{exit_[0]:.1f},{exit_[1]:.1f} "
        f"{_curve(exit_, route.end)}"
    )


def _label(route: Route) -> str:
    """The label, next to the arrow's end, on the side it comes from."""
    x, y = route.end
    leftwards = route.start[0] > x
    anchor, offset = ("start", 8.0) if leftwards else ("end", -8.0)
    color = _EDGE_COLOR[route.edge.kind]
    return (
        f'    <text x="{x + offset:.1f}" y="{y - 3:.1f}" text-anchor="{anchor}"'
        f' {_FONT} font-size="10" fill="{color}" stroke="#ffffff"'
        f' stroke-width="3" paint-order="stroke">{escape(route.edge.label)}</text>'
    )


def _markers() -> list[str]:
    lines = ["  <defs>"]
    for kind, color in _EDGE_COLOR.items():
        lines.append(
            f'    <marker id="arrow-{kind.name.lower()}" viewBox="0 0 10 10" refX="10"'
            ' refY="5" markerWidth="7" markerHeight="7" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
        )
    lines.append("  </defs>")
    return lines


def _stroke(kind: EdgeKind) -> str:
    dash = f' stroke-dasharray="{_DASH[kind]}"' if kind in _DASH else ""
    return f'stroke="{_EDGE_COLOR[kind]}" stroke-width="1.5"{dash}'


def _edges(graph: ContractGraph, layout: Layout) -> list[str]:
    ids = node_ids(graph)
    lines = []
    for route in layout.routes:
        edge = route.edge
        lines.append(
            f'  <g class="edge {edge.kind.name.lower()}"'
            f' data-source="{ids[edge.source]}" data-target="{ids[edge.target]}">'
            f"<title>{escape(edge.label)}</title>"
        )
        lines.append(
            f'    <path d="{_path(route)}" fill="none" {_stroke(edge.kind)}'
            f' marker-end="url(#arrow-{edge.kind.name.lower()})"/>'
        )
        if edge.kind in _LABELLED:
            lines.append(_label(route))
        lines.append("  </g>")
    return lines


def _nodes(graph: ContractGraph, layout: Layout) -> list[str]:
    ids = node_ids(graph)
    lines = []
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
    return lines


def _legend(graph: ContractGraph, width: float, top: float) -> tuple[list[str], float]:
    """Legend entries for the arrow kinds present, wrapped to ``width``;
    returns the lines and the y below the legend."""
    kinds = [kind for kind in EdgeKind if any(e.kind is kind for e in graph.edges)]
    x, y = MARGIN, top + _LEGEND_ROW
    lines = ['  <g class="legend">']
    for kind in kinds:
        item_width = _LEGEND_SAMPLE + len(_LEGEND[kind]) * _LEGEND_CHAR_WIDTH
        if x > MARGIN and x + item_width > width - MARGIN:
            x, y = MARGIN, y + _LEGEND_ROW
        lines.append(
            f'    <line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 28:.1f}"'
            f' y2="{y - 4:.1f}" {_stroke(kind)}/>'
        )
        lines.append(
            f'    <text x="{x + _LEGEND_SAMPLE:.1f}" y="{y:.1f}" {_FONT}'
            f' font-size="11" fill="#444">{_LEGEND[kind]}</text>'
        )
        x += item_width + _LEGEND_SPACING
    lines.append("  </g>")
    return lines, y + MARGIN


def render_svg(graph: ContractGraph) -> str:
    """Return an SVG document: column titles, boxes, arrows, a legend."""
    layout = lay_out(graph)
    legend, bottom = _legend(graph, layout.width, layout.height)
    width, height = f"{layout.width:.0f}", f"{bottom:.0f}"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}">',
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
    lines.extend(_edges(graph, layout))
    lines.extend(_nodes(graph, layout))
    lines.extend(legend)
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
