"""Layered layout of the contract graph: three columns, ordered to cut crossings.

Messages, topics and agents each get a column. Within a column, nodes are
ordered by the mean position of their neighbours in the other columns
(barycentre heuristic, a few deterministic sweeps), starting from name order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from agentgen.graph.model import ContractGraph, Node, NodeKind

__all__ = ["COLUMN_ORDER", "Box", "Layout", "lay_out"]

COLUMN_ORDER = (NodeKind.MESSAGE, NodeKind.TOPIC, NodeKind.AGENT)

CHAR_WIDTH = 7.2
NODE_HEIGHT = 30.0
NODE_GAP = 18.0
NODE_PADDING = 24.0
COLUMN_GAP = 170.0
MARGIN = 24.0
HEADER = 36.0
_SWEEPS = 4


@dataclass(frozen=True)
class Box:
    """Where one node is drawn (top-left corner, size)."""

    node: Node
    x: float
    y: float
    width: float
    height: float

    @property
    def middle_y(self) -> float:
        """Vertical centre, where arrows attach."""
        return self.y + self.height / 2


@dataclass(frozen=True)
class Layout:
    """Boxes by node key, column x positions and the drawing size."""

    boxes: dict[str, Box]
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


def lay_out(graph: ContractGraph) -> Layout:
    """Compute box positions; the tallest column sets the height, others centre."""
    columns = _ordered_columns(graph)
    widths = {
        kind: max(
            (len(node.label) * CHAR_WIDTH + NODE_PADDING for node in nodes),
            default=80.0,
        )
        for kind, nodes in columns.items()
    }
    heights = {
        kind: len(nodes) * NODE_HEIGHT + max(len(nodes) - 1, 0) * NODE_GAP
        for kind, nodes in columns.items()
    }
    tallest = max(heights.values(), default=0.0)
    column_x: dict[NodeKind, float] = {}
    boxes: dict[str, Box] = {}
    x = MARGIN
    for kind in COLUMN_ORDER:
        column_x[kind] = x
        y = MARGIN + HEADER + (tallest - heights[kind]) / 2
        for node in columns[kind]:
            width = len(node.label) * CHAR_WIDTH + NODE_PADDING
            left = x + (widths[kind] - width) / 2
            boxes[node.key] = Box(node, left, y, width, NODE_HEIGHT)
            y += NODE_HEIGHT + NODE_GAP
        x += widths[kind] + COLUMN_GAP
    width = x - COLUMN_GAP + MARGIN
    height = MARGIN * 2 + HEADER + max(tallest, NODE_HEIGHT)
    return Layout(boxes, column_x, widths, width, height)
