"""The pre-computed view of one generated module that the templates render.

Every string is final: names resolved, imports aliased, code laid out the way
black lays it out and docstrings normalised. Templates only read and loop.
Multi-line strings carry the indentation of their continuation lines; their
first line is placed by the template.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodModel:
    """One generated method: its ``async def`` line(s), docstring and body."""

    signature: str
    docstring: str
    body: str


@dataclass(frozen=True)
class AgentModel:
    """The handler base class and the client class of one agent service."""

    base_name: str
    client_name: str
    base_docstring: str
    client_docstring: str
    agent_type: str
    topic_subscriptions: str
    prefix_subscriptions: str
    handler_table: str
    handlers: tuple[MethodModel, ...]
    client_methods: tuple[MethodModel, ...]


@dataclass(frozen=True)
class ModuleModel:
    """One ``x_agents.py`` module."""

    header: str
    docstring: str
    imports: str
    serializers: str
    topics: str
    agents: tuple[AgentModel, ...]
    all_names: str
