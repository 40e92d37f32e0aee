"""Names of AutoGen's ``agents.AgentRpc`` service and its ``client-id`` header."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = [
    "ADD_SUBSCRIPTION",
    "CLIENT_ID_HEADER",
    "GET_SUBSCRIPTIONS",
    "HOST_MARKER_HEADER",
    "OPEN_CHANNEL",
    "OPEN_CONTROL_CHANNEL",
    "REGISTER_AGENT",
    "REMOVE_SUBSCRIPTION",
    "SERVICE_NAME",
    "TYPE_SHARING_HEADER",
    "client_id_from",
    "header_value",
    "method_path",
]

SERVICE_NAME: Final = "agents.AgentRpc"
OPEN_CHANNEL: Final = "OpenChannel"
OPEN_CONTROL_CHANNEL: Final = "OpenControlChannel"
REGISTER_AGENT: Final = "RegisterAgent"
ADD_SUBSCRIPTION: Final = "AddSubscription"
REMOVE_SUBSCRIPTION: Final = "RemoveSubscription"
GET_SUBSCRIPTIONS: Final = "GetSubscriptions"

CLIENT_ID_HEADER: Final = "client-id"
"""Identifies one worker connection; sent on the stream and every unary call."""

HOST_MARKER_HEADER: Final = "agentgen-host"
"""Initial-metadata header by which an agentgen host makes itself known.

It sends it at once on ``OpenChannel`` (so a worker knows the host has attached
its stream) and on ``GetSubscriptions`` (so a worker can tell whether to wait
for it: AutoGen hosts send no initial metadata before their first message).
"""


TYPE_SHARING_HEADER: Final = "agentgen-type-sharing"
"""Initial-metadata header by which an agentgen host tells its type-sharing
mode (``exclusive``, ``by-key`` or ``fan-out``), next to its marker."""


def header_value(
    metadata: Iterable[tuple[str, str | bytes]] | None, name: str
) -> str | None:
    """The first value of header ``name`` in ``metadata``, or ``None``."""
    for key, value in metadata or ():
        if key == name:
            return value.decode() if isinstance(value, bytes) else value
    return None


def method_path(method: str) -> str:
    """The full gRPC path of one method, e.g. ``/agents.AgentRpc/OpenChannel``."""
    return f"/{SERVICE_NAME}/{method}"


def client_id_from(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The ``client-id`` header's value, or ``None`` when absent or empty."""
    return header_value(metadata, CLIENT_ID_HEADER) or None
