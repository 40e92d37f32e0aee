"""agentgen's annotations (``agentgen/options.proto``) as read from descriptors.

Importing this module registers the extensions with protobuf. It must happen
before the CodeGeneratorRequest is parsed: extensions registered afterwards stay
invisible (their bytes are kept as unknown fields), so ``plugin.py`` imports it
at the top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from google.protobuf import unknown_fields
from google.protobuf.descriptor_pb2 import (
    DescriptorProto,
    MessageOptions,
    ServiceDescriptorProto,
    ServiceOptions,
)

from agentgen import options_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.extension_dict import _ExtensionFieldDescriptor

OPTIONS_FILE = "agentgen/options.proto"

AgentOptions = options_pb2.AgentOptions

# The compiled module types its extensions loosely; these are what they are.
AGENT_EXTENSION = cast(
    "_ExtensionFieldDescriptor[ServiceOptions, AgentOptions]", options_pb2.agent
)
TOPIC_EXTENSION = cast(
    "_ExtensionFieldDescriptor[MessageOptions, str]", options_pb2.topic
)


def agent_options(service: ServiceDescriptorProto) -> AgentOptions | None:
    """The service's ``(agentgen.agent)`` option, or None if it is no agent."""
    options = service.options
    if not options.HasExtension(AGENT_EXTENSION):
        return None
    return options.Extensions[AGENT_EXTENSION]


def message_topic(message: DescriptorProto) -> str | None:
    """The message's ``(agentgen.topic)``, or None when it is not set."""
    options = message.options
    if not options.HasExtension(TOPIC_EXTENSION):
        return None
    return options.Extensions[TOPIC_EXTENSION]


def has_undecoded_options(options: MessageOptions | ServiceOptions) -> bool:
    """Whether some option bytes did not decode to a known field or extension."""
    return len(unknown_fields.UnknownFieldSet(options)) > 0
