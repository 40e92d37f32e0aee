"""Frames: subscriptions to and from their wire form, attributes added as bytes."""

from __future__ import annotations

import pytest

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import TypePrefixSubscription, TypeSubscription
from agentgen.runtime.wire.frames import (
    InvalidSubscriptionError,
    attribute_suffix,
    subscription_from_wire,
    subscription_to_wire,
)
from tests.support.grpc_harness import event_message


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


def test_an_attribute_suffix_adds_the_attribute_to_an_event_frame() -> None:
    frame = event_message("news", "k")
    suffixed = frame.SerializeToString() + attribute_suffix("agdelivertypes", "a,b")
    parsed = pb.Message.FromString(suffixed)
    frame.cloudEvent.attributes["agdelivertypes"].ce_string = "a,b"
    assert parsed == frame
