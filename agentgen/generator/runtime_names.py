"""The names every generated module binds, besides its ``_pb2`` modules."""

from __future__ import annotations

Import = tuple[str, str]

# ``from module import name`` in every generated module.
MODULE_IMPORTS: tuple[Import, ...] = (
    ("typing", "Final"),
    ("collections.abc", "Mapping"),
    ("google.protobuf.message", "Message"),
    ("agentgen.runtime", "SerializerTable"),
    ("agentgen.runtime", "serializer_table"),
)
# ``from module import name`` in modules that define agents.
AGENT_IMPORTS: tuple[Import, ...] = (
    ("collections.abc", "Callable"),
    ("typing", "ClassVar"),
    ("typing", "Self"),
    ("agentgen.runtime", "Agent"),
    ("agentgen.runtime", "AgentClient"),
    ("agentgen.runtime", "AgentRuntime"),
    ("agentgen.runtime", "Handler"),
    ("agentgen.runtime", "MessageContext"),
)
# ``import module`` in modules that define agents.
AGENT_PLAIN_IMPORTS: tuple[str, ...] = ("abc",)
# Module-level names the generated code defines besides the agent classes.
MODULE_LEVEL_NAMES: tuple[str, ...] = ("SERIALIZERS", "TOPICS", "__all__")

BASE_SUFFIX = "Base"
CLIENT_SUFFIX = "Client"


def fixed_names() -> frozenset[str]:
    """Every name a generated module binds other than its agent classes."""
    names = {name for _, name in (*MODULE_IMPORTS, *AGENT_IMPORTS)}
    names.update(AGENT_PLAIN_IMPORTS, MODULE_LEVEL_NAMES)
    return frozenset(names)


def agent_class_names(service: str) -> tuple[str, str]:
    """The handler base class and client class generated for a service."""
    return service + BASE_SUFFIX, service + CLIENT_SUFFIX
