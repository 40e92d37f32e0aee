"""AutoGen's name rules, shared by the generator and the runtime."""

from __future__ import annotations

import pytest

from agentgen.autogen_names import (
    is_dotnet_agent_type,
    is_valid_agent_type,
    is_valid_topic_type,
)


@pytest.mark.parametrize(
    ("value", "agent", "topic", "dotnet"),
    [
        ("Planner", True, True, True),
        ("_planner_2", True, True, True),
        ("planner.v1-beta", True, True, False),
        ("caf\u00e9", True, True, False),
        ("2planner", True, True, False),
        ("kind=a:b", False, True, False),
        ("", False, False, False),
        ("planner\n", False, False, False),
        ("a/b", False, False, False),
        ("a b", False, False, False),
    ],
)
def test_rules(value: str, agent: bool, topic: bool, dotnet: bool) -> None:
    assert is_valid_agent_type(value) is agent
    assert is_valid_topic_type(value) is topic
    assert is_dotnet_agent_type(value) is dotnet


def test_runtime_ids_reexport_the_shared_rules() -> None:
    from agentgen import autogen_names
    from agentgen.runtime import ids

    assert ids.is_valid_agent_type is autogen_names.is_valid_agent_type
    assert ids.is_valid_topic_type is autogen_names.is_valid_topic_type


def test_answers_stay_right_when_asked_again_and_past_the_memory_limit() -> None:
    from agentgen import autogen_names

    names = [f"type{index}" for index in range(autogen_names.KNOWN_NAMES_LIMIT + 10)]
    for _ in range(2):  # the second round reads remembered names
        assert all(is_valid_agent_type(name) for name in names)
        assert not is_valid_agent_type("kind=a:b")
        assert is_valid_topic_type("kind=a:b")
        assert not is_valid_topic_type("a b")
