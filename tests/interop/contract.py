"""What both sides of the interop tests agree on (see interop/v1/interop.proto).

Each side registers one agent type per subscription kind, named
``<side>_<kind>``: ``typed`` (TypeSubscription to :data:`EVENTS_TOPIC`),
``prefixed`` (TypePrefixSubscription to :data:`PREFIX`), ``default``
(DefaultSubscription), plus ``<side>_echo`` answering ``EchoRequest``.
agentgen's side is named ``agentgen`` by the contract's options; each AutoGen
peer worker takes its name on the command line.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_TOPIC",
    "EVENTS_TOPIC",
    "KIND_TOPICS",
    "PREFIX",
    "SUBSCRIPTION_KINDS",
    "agent_type",
    "kind_for_topic",
    "subscriber_type",
]

EVENTS_TOPIC = "interop.events"
PREFIX = "interop.prefix."
DEFAULT_TOPIC = "default"
SUBSCRIPTION_KINDS = ("typed", "prefixed", "default")
# One topic type per subscription kind that only that kind matches.
KIND_TOPICS = {
    "typed": EVENTS_TOPIC,
    "prefixed": PREFIX + "alpha",
    "default": DEFAULT_TOPIC,
}


def agent_type(side: str, kind: str) -> str:
    """The agent type of ``side`` (``agentgen`` or a peer's name) for ``kind``."""
    return f"{side}_{kind}"


def kind_for_topic(topic_type: str) -> str | None:
    """The subscription kind whose agents a topic type reaches (None: none)."""
    if topic_type == EVENTS_TOPIC:
        return "typed"
    if topic_type.startswith(PREFIX):
        return "prefixed"
    if topic_type == DEFAULT_TOPIC:
        return "default"
    return None


def subscriber_type(side: str, topic_type: str) -> str | None:
    """The one agent type of ``side`` that a topic type reaches (None: none)."""
    kind = kind_for_topic(topic_type)
    return None if kind is None else agent_type(side, kind)
