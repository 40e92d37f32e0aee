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


def is_valid_agent_type(value: str) -> bool:
    r"""Whether ``value`` is an agent type AutoGen accepts (``^[\w\-\.]+$``)."""
    return _AGENT_TYPE.fullmatch(value) is not None


def is_valid_topic_type(value: str) -> bool:
    r"""Whether ``value`` is a topic type AutoGen accepts (``^[\w\-\.\:\=]+$``)."""
    return _TOPIC_TYPE.fullmatch(value) is not None


def is_dotnet_agent_type(value: str) -> bool:
    """Whether .NET agents can address agent type ``value``."""
    return _DOTNET_AGENT_TYPE.fullmatch(value) is not None
