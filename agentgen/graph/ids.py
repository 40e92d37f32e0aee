"""Short, stable identifiers for nodes in text formats (``m0``, ``t1``, ``a2``)."""

from __future__ import annotations

from agentgen.graph.model import ContractGraph, NodeKind

__all__ = ["node_ids"]

_PREFIX = {NodeKind.MESSAGE: "m", NodeKind.TOPIC: "t", NodeKind.AGENT: "a"}


def node_ids(graph: ContractGraph) -> dict[str, str]:
    """Node key -> identifier, numbered per column in drawing order."""
    ids: dict[str, str] = {}
    for kind, prefix in _PREFIX.items():
        for index, node in enumerate(graph.of_kind(kind)):
            ids[node.key] = f"{prefix}{index}"
    return ids
