"""Frames: subscriptions to and from their wire form."""

from __future__ import annotations

import pytest

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import TypePrefixSubscription, TypeSubscription
from agentgen.runtime.wire.frames import (
    InvalidSubscriptionError,
    subscription_from_wire,
    subscription_to_wire,
)


def test_subscriptions_round_trip_through_their_wire_form() -> None:
    for subscription in (
        TypeSubscription("news", "agent", id="s1"),
        TypePrefixSubscription("alerts.", "agent", id="s2"),
    ):
        back = subscription_from_wire(subscription_to_wire(subscription))
        assert type(back) is type(subscription)
        assert back.id == subscription.id
        assert back.same_rule(subscription)
    with pytest.raises(InvalidSubscriptionError, match="neither"):
        subscription_from_wire(pb.Subscription(id="empty"))
    bad = pb.Subscription(id="bad")
    bad.typeSubscription.topic_type = "t"
    bad.typeSubscription.agent_type = "no spaces allowed"
    with pytest.raises(InvalidSubscriptionError, match="agent type"):
        subscription_from_wire(bad)
