"""Names a generated handler or client method must not take."""

from __future__ import annotations

import functools

from agentgen.generator.naming import is_python_keyword

# Members of the generated classes themselves.
_GENERATED_MEMBERS = frozenset(
    {
        "AGENT_TYPE",
        "HANDLERS",
        "PREFIX_SUBSCRIPTIONS",
        "TOPIC_SUBSCRIPTIONS",
        "register",
    }
)
# Used only while agentgen.runtime cannot be imported (e.g. a partial checkout):
# the public members design.md promises for Agent and AgentClient.
_FALLBACK_RUNTIME_MEMBERS = frozenset(
    {
        "agent_id",
        "bind",
        "close",
        "handler_for",
        "id",
        "load_state",
        "on_message",
        "publish_message",
        "runtime",
        "save_state",
        "send_message",
        "sender",
        "_call",
    }
)


def _instance_attributes(cls: type) -> frozenset[str]:
    """Attributes ``cls.__init__`` assigns on ``self`` (invisible to ``dir(cls)``)."""
    import dis

    init = cls.__dict__.get("__init__")
    if init is None:
        return frozenset()
    return frozenset(
        str(instruction.argval)
        for instruction in dis.get_instructions(init)
        if instruction.opname == "STORE_ATTR"
    )


@functools.cache
def reserved_members() -> frozenset[str]:
    """Members of ``Agent``, ``AgentClient`` and of the generated classes.

    Class members come from ``dir()``; instance attributes from what the
    constructors assign.
    """
    try:
        from agentgen.runtime import Agent, AgentClient
    except ImportError:
        runtime_members = _FALLBACK_RUNTIME_MEMBERS | frozenset(dir(object))
    else:
        runtime_members = frozenset(
            name
            for cls in (Agent, AgentClient)
            for name in (*dir(cls), *_instance_attributes(cls))
        )
    return runtime_members | _GENERATED_MEMBERS


def python_method_name(snake_name: str) -> str:
    """``snake_name``, with ``_`` appended if it is a keyword or a reserved member."""
    if is_python_keyword(snake_name) or snake_name in reserved_members():
        return snake_name + "_"
    return snake_name
