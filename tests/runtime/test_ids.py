"""AgentId and TopicId: values with a hash computed once."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from agentgen.runtime import AgentId, TopicId


@pytest.mark.parametrize(
    ("value", "same", "other", "parts"),
    [
        (AgentId("a", "k"), AgentId("a", "k"), AgentId("a", "j"), ("a", "k")),
        (TopicId("t", "s"), TopicId("t", "s"), TopicId("t", "x"), ("t", "s")),
    ],
)
def test_ids_are_values(
    value: object, same: object, other: object, parts: tuple[str, str]
) -> None:
    assert value == same and hash(value) == hash(same) == hash(parts)
    assert value != other
    assert {value: 1}[same] == 1
    for copied in (
        copy.copy(value),
        copy.deepcopy(value),
        pickle.loads(pickle.dumps(value)),
    ):
        assert copied == value and hash(copied) == hash(value)


def test_repr_shows_the_fields_only() -> None:
    assert repr(AgentId("a", "k")) == "AgentId(type='a', key='k')"
    assert repr(TopicId("t", "s")) == "TopicId(type='t', source='s')"


def test_replace_recomputes_the_hash() -> None:
    agent = dataclasses.replace(AgentId("a", "k"), key="j")
    assert agent == AgentId("a", "j") and hash(agent) == hash(AgentId("a", "j"))
    topic = dataclasses.replace(TopicId("t", "s"), source="x")
    assert topic == TopicId("t", "x") and hash(topic) == hash(TopicId("t", "x"))


def test_ids_stay_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        AgentId("a").key = "b"  # type: ignore[misc]
