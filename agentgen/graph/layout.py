"""Layered layout of the contract graph: three columns, ordered to cut crossings.

Messages, topics and agents each get a column. Within a column, nodes are
ordered by the mean position of their neighbours in the other columns
(barycentre heuristic, a few deterministic sweeps), starting from name order.

Every arrow gets its own port on the side of each box it touches (boxes grow
to fit their ports), so arrows and their labels never share an end point.
Arrows between messages and agents cross the topic column through the gaps
between topic boxes (one lane each), never through a box.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from agentgen.graph.model import ContractGraph, Edge, EdgeKind, Node, NodeKind

__all__ = ["COLUMN_ORDER", "Box", "Layout", "Point", "Route", "lay_out"]

COLUMN_ORDER = (NodeKind.MESSAGE, NodeKind.TOPIC, NodeKind.AGENT)

CHAR_WIDTH = 7.2
NODE_HEIGHT = 30.0
NODE_GAP = 26.0
NODE_PADDING = 24.0
PORT_SPACING = 14.0
COLUMN_GAP = 190.0
LANE_MARGIN = 12.0
MARGIN = 24.0
HEADER = 36.0
_SWEEPS = 4

Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """Where one node is drawn (top-left corner, size)."""

    node: Node
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        """x of the right side."""
        return self.x + self.width

    @property
    def bottom(self) -> float:
        """y of the bottom side."""
        return self.y + self.height

    @property
    def middle_y(self) -> float:
        """Vertical centre."""
        return self.y + self.height / 2


@dataclass(frozen=True)
class Route:
    """The path of one arrow: ``start``, optional lane through the topic column
    (``lane`` = entry and exit points), ``end``. Arrows run left to right except
    ``returns``, which runs from an agent back to a message."""

    edge: Edge
    start: Point
    lane: tuple[Point, Point] | None
    end: Point


@dataclass(frozen=True)
class Layout:
    """Boxes by node key, routes of the edges, column positions, and the size
    of the area they take (``height`` is where anything drawn below may start)."""

    boxes: dict[str, Box]
    routes: tuple[Route, ...]
    column_x: dict[NodeKind, float]
    column_width: dict[NodeKind, float]
    width: float
    height: float


def _ordered_columns(graph: ContractGraph) -> dict[NodeKind, list[Node]]:
    columns = {kind: list(graph.of_kind(kind)) for kind in COLUMN_ORDER}
    neighbours: dict[str, set[str]] = defaultdict(set)
    for edge in graph.edges:
        neighbours[edge.source].add(edge.target)
        neighbours[edge.target].add(edge.source)
    for sweep in range(_SWEEPS):
        kinds = COLUMN_ORDER[1:] if sweep % 2 == 0 else COLUMN_ORDER[-2::-1]
        for kind in kinds:
            position = {
                node.key: index
                for column in columns.values()
                for index, node in enumerate(column)
            }
            columns[kind] = sorted(
                columns[kind],
                key=lambda node: _barycentre(node, position, neighbours[node.key]),
            )
    return columns


def _barycentre(
    node: Node, position: dict[str, int], neighbours: set[str]
) -> tuple[float, int]:
    """Mean position of a node's neighbours; its own position breaks ties."""
    around = [position[key] for key in neighbours]
    own = position[node.key]
    return (sum(around) / len(around) if around else float(own), own)


def _sides(edge: Edge) -> tuple[str, str]:
    """Which side of the source and of the target box the arrow attaches to."""
    return ("left", "right") if edge.kind is EdgeKind.RETURNS else ("right", "left")


def _port_counts(graph: ContractGraph) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for edge in graph.edges:
        source_side, target_side = _sides(edge)
        counts[(edge.source, source_side)] += 1
        counts[(edge.target, target_side)] += 1
    return counts


def _node_height(key: str, counts: dict[tuple[str, str], int]) -> float:
    ports = max(counts[(key, "left")], counts[(key, "right")])
    return max(NODE_HEIGHT, PORT_SPACING * (ports + 1))


def _place_boxes(
    columns: dict[NodeKind, list[Node]], counts: dict[tuple[str, str], int]
) -> tuple[dict[str, Box], dict[NodeKind, float], dict[NodeKind, float], float]:
    """Boxes, column x, column widths, and the y below the lowest box."""
    widths = {
        kind: max(
            (len(node.label) * CHAR_WIDTH + NODE_PADDING for node in nodes),
            default=80.0,
        )
        for kind, nodes in columns.items()
    }
    heights = {
        kind: sum(_node_height(node.key, counts) for node in nodes)
        + max(len(nodes) - 1, 0) * NODE_GAP
        for kind, nodes in columns.items()
    }
    tallest = max(heights.values(), default=0.0)
    top = MARGIN + HEADER + NODE_GAP
    boxes: dict[str, Box] = {}
    column_x: dict[NodeKind, float] = {}
    x = MARGIN
    for kind in COLUMN_ORDER:
        column_x[kind] = x
        y = top + (tallest - heights[kind]) / 2
        for node in columns[kind]:
            width = len(node.label) * CHAR_WIDTH + NODE_PADDING
            height = _node_height(node.key, counts)
            boxes[node.key] = Box(
                node, x + (widths[kind] - width) / 2, y, width, height
            )
            y += height + NODE_GAP
        x += widths[kind] + COLUMN_GAP
    return boxes, column_x, widths, top + tallest


def _ports(graph: ContractGraph, boxes: dict[str, Box]) -> dict[tuple[int, str], Point]:
    """(edge index, "source"/"target") -> attachment point, spread along sides."""
    by_side: dict[tuple[str, str], list[tuple[float, int, str]]] = defaultdict(list)
    for index, edge in enumerate(graph.edges):
        source_side, target_side = _sides(edge)
        by_side[(edge.source, source_side)].append(
            (boxes[edge.target].middle_y, index, "source")
        )
        by_side[(edge.target, target_side)].append(
            (boxes[edge.source].middle_y, index, "target")
        )
    points: dict[tuple[int, str], Point] = {}
    for (key, side), ends in by_side.items():
        box = boxes[key]
        x = box.x if side == "left" else box.right
        step = box.height / (len(ends) + 1)
        for slot, (_, index, end) in enumerate(sorted(ends)):
            points[(index, end)] = (x, box.y + step * (slot + 1))
    return points


def _gaps(boxes: Iterable[Box], top: float, bottom: float) -> list[tuple[float, float]]:
    """Free vertical intervals of one column, top to bottom."""
    gaps = []
    y = top
    for box in sorted(boxes, key=lambda box: box.y):
        gaps.append((y, box.y))
        y = box.bottom
    gaps.append((y, bottom))
    return gaps


def _lanes(
    crossing: list[tuple[int, Point, Point]],
    gaps: list[tuple[float, float]],
    left: float,
    right: float,
) -> dict[int, tuple[Point, Point]]:
    """Give every arrow crossing the topic column its own lane in a gap."""
    chosen: dict[int, list[tuple[float, int, Point]]] = defaultdict(list)
    for index, start, end in crossing:
        ideal = (start[1] + end[1]) / 2
        gap = min(
            range(len(gaps)),
            key=lambda g: (abs((gaps[g][0] + gaps[g][1]) / 2 - ideal), g),
        )
        chosen[gap].append((ideal, index, start))
    lanes: dict[int, tuple[Point, Point]] = {}
    for gap, members in chosen.items():
        low, high = gaps[gap]
        step = (high - low) / (len(members) + 1)
        for slot, (_, index, start) in enumerate(sorted(members)):
            y = low + step * (slot + 1)
            entry, exit_ = (left, right) if start[0] < left else (right, left)
            lanes[index] = ((entry, y), (exit_, y))
    return lanes


def lay_out(graph: ContractGraph) -> Layout:
    """Place the boxes and route every arrow."""
    counts = _port_counts(graph)
    boxes, column_x, widths, lowest = _place_boxes(_ordered_columns(graph), counts)
    ports = _ports(graph, boxes)
    topic_left = column_x[NodeKind.TOPIC] - LANE_MARGIN
    topic_right = column_x[NodeKind.TOPIC] + widths[NodeKind.TOPIC] + LANE_MARGIN
    crossing = [
        (index, ports[(index, "source")], ports[(index, "target")])
        for index, edge in enumerate(graph.edges)
        if {boxes[edge.source].node.kind, boxes[edge.target].node.kind}
        == {NodeKind.MESSAGE, NodeKind.AGENT}
    ]
    topic_boxes = [box for box in boxes.values() if box.node.kind is NodeKind.TOPIC]
    gaps = _gaps(topic_boxes, MARGIN + HEADER, lowest + NODE_GAP)
    lanes = _lanes(crossing, gaps, topic_left, topic_right)
    routes = tuple(
        Route(
            edge, ports[(index, "source")], lanes.get(index), ports[(index, "target")]
        )
        for index, edge in enumerate(graph.edges)
    )
    width = column_x[NodeKind.AGENT] + widths[NodeKind.AGENT] + MARGIN
    return Layout(boxes, routes, column_x, widths, width, lowest + NODE_GAP)
