"""The data of one generated module, which ``agents.py.j2`` turns into code.

The template holds the code; the model holds what varies from one module to
another, already in the form the code writes it: type references with their
import aliases resolved (``search_pb2.SearchQuery``), string literals quoted and
escaped, Python names, and docstring literals normalised the way black
normalises them. A multi-line docstring carries the indentation of its
continuation lines; the template places its first line at that indentation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicModel:
    """A message type and the topic type it is published to by default."""

    message: str  # type reference
    topic: str  # string literal


@dataclass(frozen=True)
class HandlerModel:
    """One rpc: a handler method of the base class and a method of the client."""

    name: str
    name_literal: str
    request: str  # type reference
    response: str  # type reference, or None for google.protobuf.Empty
    returns: bool  # whether the response is a message (not Empty)
    handler_docstring: str
    client_docstring: str


@dataclass(frozen=True)
class AgentModel:
    """The handler base class and the client class of one agent service."""

    base_name: str
    client_name: str
    base_docstring: str
    client_docstring: str
    agent_type: str  # string literal
    topic_subscriptions: tuple[str, ...]  # string literals
    prefix_subscriptions: tuple[str, ...]  # string literals
    handlers: tuple[HandlerModel, ...]


@dataclass(frozen=True)
class ModuleModel:
    """One ``x_agents.py`` module."""

    version: str  # of protoc-gen-agentgen
    source_file: str  # the .proto file name, escaped for a comment
    docstring: str
    imports: str  # the import block, sorted and laid out
    messages: tuple[str, ...]  # type references of the messages to serialize
    topics: tuple[TopicModel, ...]
    agents: tuple[AgentModel, ...]
    exports: tuple[str, ...]  # string literals of the names of __all__
