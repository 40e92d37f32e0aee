"""The NATS routing state without a server: names, entries, owners."""

from __future__ import annotations

import pytest

from agentgen.runtime import AgentId, TopicId, TypePrefixSubscription, TypeSubscription
from agentgen.runtime.nats.routing import RoutingView, decode_entry, encode_entry
from agentgen.runtime.nats.subjects import Subjects, decode_name, encode_name
from agentgen.runtime.placement import rendezvous_choice


@pytest.mark.parametrize(
    "name", ["Echo", "a.b-c_d", "ключ", "with space/and:colon", ""]
)
def test_names_survive_encoding_as_nats_tokens(name: str) -> None:
    token = encode_name(name)
    assert all(c.isalnum() or c in "-_" for c in token)
    assert decode_name(token) == name


def test_kv_keys_parse_back_and_junk_is_ignored() -> None:
    assert Subjects.parse_key(Subjects.worker_key("abc")) == ("worker", ("abc",))
    key = Subjects.state_key("a.b", "k/1 2")
    assert Subjects.parse_key(key) == ("state", ("a.b", "k/1 2"))
    assert Subjects.parse_key("junk") is None
    assert Subjects.parse_key("s.%%%.x") is None


def test_entries_round_trip_and_malformed_ones_are_refused() -> None:
    subscriptions = [
        TypeSubscription("news", "Echo", "s1"),
        TypePrefixSubscription("alerts.", "Echo", "s2"),
    ]
    entry = decode_entry("w1", encode_entry(["Echo"], subscriptions))
    assert entry.agent_types == ("Echo",)
    assert [s.id for s in entry.subscriptions] == ["w1/s1", "w1/s2"]
    with pytest.raises(ValueError, match="worker 'w2'"):
        decode_entry("w2", b'{"types": 3}')


def test_the_view_routes_by_rendezvous_over_live_workers() -> None:
    view = RoutingView()
    for worker in ("w1", "w2", "w3"):
        view.put(
            decode_entry(
                worker, encode_entry(["Echo"], [TypeSubscription("news", "Echo", "s")])
            )
        )
    keys = [f"k{n}" for n in range(200)]
    owners = {key: view.owner("Echo", key) for key in keys}
    assert owners == {key: rendezvous_choice(key, ["w1", "w2", "w3"]) for key in keys}
    assert view.agent_types("news") == ("Echo",)
    assert view.subscriptions.recipients(TopicId("news", "k1")) == (
        AgentId("Echo", "k1"),
    )
    view.remove("w2")
    for key in keys:
        assert view.owner("Echo", key) == (
            owners[key] if owners[key] != "w2" else rendezvous_choice(key, ["w1", "w3"])
        )
    view.remove("w1")
    view.remove("w3")
    assert view.owner("Echo", "k1") is None
    assert view.agent_types("news") == ()
