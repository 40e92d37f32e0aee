r"""AutoGen's rules for agent types and topic types, shared by generator and runtime.

AutoGen accepts an agent type matching ``^[\w\-\.]+\Z`` and a topic type
matching ``^[\w\-\.\:\=]+\Z`` (``autogen_core`` ``AgentType`` and
``TopicId``); .NET agents address only agent types matching
``[A-Za-z_][A-Za-z0-9_]*``. Standard library only: both sides import it.
"""

from __future__ import annotations

import re

__all__ = [
    "AGENT_TYPE_CHARS",
    "DEFAULT_TOPIC_TYPE",
    "DOTNET_AGENT_TYPE_CHARS",
    "KNOWN_NAMES_LIMIT",
    "TOPIC_TYPE_CHARS",
    "is_dotnet_agent_type",
    "is_valid_agent_type",
    "is_valid_topic_type",
]

_AGENT_TYPE = re.compile(r"[\w\-\.]+")
_TOPIC_TYPE = re.compile(r"[\w\-\.\:\=]+")
_DOTNET_AGENT_TYPE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The characters each rule allows, in words, for error messages.
AGENT_TYPE_CHARS = "letters, digits, '_', '-' and '.'"
TOPIC_TYPE_CHARS = "letters, digits, '_', '-', '.', ':' and '='"
DOTNET_AGENT_TYPE_CHARS = "ASCII letters, digits and '_'"

DEFAULT_TOPIC_TYPE = "default"
"""The topic type of AutoGen's ``DefaultSubscription``."""


KNOWN_NAMES_LIMIT = 4096
"""Valid names remembered per rule (ids are checked on every message)."""
_known_agent_types: set[str] = set()
_known_topic_types: set[str] = set()


def _matches(pattern: re.Pattern[str], known: set[str], value: str) -> bool:
    if pattern.fullmatch(value) is None:
        return False
    if len(known) >= KNOWN_NAMES_LIMIT:  # names from the wire must not pile up
        known.clear()
    known.add(value)
    return True


def is_valid_agent_type(value: str) -> bool:
    r"""Whether ``value`` is an agent type AutoGen accepts (``^[\w\-\.]+$``)."""
    # The set first, here: a known name costs no further call.
    return value in _known_agent_types or _matches(
        _AGENT_TYPE, _known_agent_types, value
    )


def is_valid_topic_type(value: str) -> bool:
    r"""Whether ``value`` is a topic type AutoGen accepts (``^[\w\-\.\:\=]+$``)."""
    return value in _known_topic_types or _matches(
        _TOPIC_TYPE, _known_topic_types, value
    )


def is_dotnet_agent_type(value: str) -> bool:
    """Whether .NET agents can address agent type ``value``."""
    return _DOTNET_AGENT_TYPE.fullmatch(value) is not None
