"""Size limits: the default, and the limits of a payload, a frame and gRPC."""

from __future__ import annotations

import pytest

from agentgen.runtime import MessageTooLargeError
from agentgen.runtime.grpc import DEFAULT_MAX_MESSAGE_SIZE
from agentgen.runtime.wire.size_limits import (
    check_frame_size,
    check_payload_size,
    forwarded_frame_limit,
    frame_limit,
    grpc_size_options,
)

MIB = 1024 * 1024


async def test_default_limit_is_at_least_64_mib() -> None:
    assert DEFAULT_MAX_MESSAGE_SIZE >= 64 * MIB


def test_each_limit_leaves_room_for_what_wraps_the_one_before() -> None:
    payload = 4096
    frame = frame_limit(payload)
    forwarded = forwarded_frame_limit(payload)
    options = dict(grpc_size_options(payload))
    assert payload < frame < forwarded
    assert options["grpc.max_send_message_length"] > forwarded
    assert options["grpc.max_receive_message_length"] > forwarded
    with pytest.raises(ValueError, match="positive"):
        grpc_size_options(0)


def test_payloads_and_frames_are_refused_only_past_their_limit() -> None:
    check_payload_size(4096, 4096, "the event")
    with pytest.raises(MessageTooLargeError, match="the event is 4097 bytes"):
        check_payload_size(4097, 4096, "the event")
    check_frame_size(frame_limit(4096), 4096, "the reply")
    with pytest.raises(MessageTooLargeError, match="max_message_size=4096"):
        check_frame_size(frame_limit(4096) + 1, 4096, "the reply")
