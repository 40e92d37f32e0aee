"""HostCounters and WorkerCounters: plain classes, as the dataclasses behaved."""

from __future__ import annotations

import pytest

from agentgen.runtime.grpc import HostCounters, WorkerCounters


@pytest.mark.parametrize("kind", [HostCounters, WorkerCounters])
def test_every_declared_counter_starts_at_zero(
    kind: type[HostCounters | WorkerCounters],
) -> None:
    snapshot = kind().snapshot()
    assert snapshot and set(snapshot.values()) == {0}
    assert list(snapshot) == list(kind.__annotations__)


def test_instances_count_on_their_own() -> None:
    first, second = WorkerCounters(), WorkerCounters()
    first.published += 2
    assert first.snapshot()["published"] == 2
    assert second.snapshot()["published"] == 0
    assert WorkerCounters.published == 0


def test_equality_and_repr_follow_the_values() -> None:
    counters = HostCounters()
    assert counters == HostCounters()
    counters.events_routed += 1
    assert counters != HostCounters()
    assert counters != WorkerCounters()
    assert "events_routed=1" in repr(counters)
    assert repr(counters).startswith("HostCounters(frames_received=0, ")
