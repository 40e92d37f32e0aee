"""Default topics of message types, read from their ``(agentgen.topic)`` option."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from .errors import NoDefaultTopicError
from .ids import TopicId

__all__ = ["DEFAULT_SOURCE", "default_topic_for", "default_topic_type"]

DEFAULT_SOURCE = "default"

_cache: dict[type[Message], str | None] = {}


def default_topic_type(cls: type[Message]) -> str | None:
    """The ``(agentgen.topic)`` of a message class, or ``None``."""
    try:
        return _cache[cls]
    except KeyError:
        pass
    # Imported here, not at start: it imports descriptor_pb2 (over a
    # millisecond). A class whose proto sets the option imported it already.
    from agentgen import options_pb2

    # The generated stub types the extension as a plain FieldDescriptor.
    extension: Any = options_pb2.topic
    options = cls.DESCRIPTOR.GetOptions()
    topic = options.Extensions[extension] if options.HasExtension(extension) else None
    _cache[cls] = topic or None
    return _cache[cls]


def default_topic_for(message: object) -> TopicId:
    """The topic to publish ``message`` to when the caller names none."""
    topic = default_topic_type(type(message)) if isinstance(message, Message) else None
    if topic is None:
        name = (
            message.DESCRIPTOR.full_name
            if isinstance(message, Message)
            else type(message).__name__
        )
        raise NoDefaultTopicError(
            f"publish_message({name}) needs a topic_id: the message type has no "
            f'default topic (annotate it with option (agentgen.topic) = "..." '
            f"or pass topic_id=TopicId(...))"
        )
    return TopicId(topic, DEFAULT_SOURCE)
