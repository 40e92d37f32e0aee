"""Drawings of annotated contracts: agents, topics and message types.

``agentgen graph`` uses :func:`build_contract_graph` on protoc's
``FileDescriptorSet`` and one of the renderers in :data:`RENDERERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from agentgen.graph.dot import render_dot
from agentgen.graph.mermaid import render_mermaid
from agentgen.graph.model import (
    ContractGraph,
    Edge,
    EdgeKind,
    Node,
    NodeKind,
    build_contract_graph,
)
from agentgen.graph.svg import render_svg

__all__ = [
    "RENDERERS",
    "ContractGraph",
    "Edge",
    "EdgeKind",
    "Node",
    "NodeKind",
    "build_contract_graph",
    "render_dot",
    "render_mermaid",
    "render_svg",
]

RENDERERS: Final[dict[str, Callable[[ContractGraph], str]]] = {
    "mermaid": render_mermaid,
    "dot": render_dot,
    "svg": render_svg,
}
