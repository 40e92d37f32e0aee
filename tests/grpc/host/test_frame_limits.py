"""The host's frame limits against raw peers: rewritten request ids at the limit.

The host forwards a request with its own (longer) request id and a reply
with its caller's: a frame within the limit on arrival may outgrow it. Such
a call fails alone, with ``too-large``; both streams go on.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import pytest

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime.grpc import GrpcHost
from agentgen.runtime.wire.rpc_error_kinds import ERROR_KIND_KEY, RpcErrorKind
from agentgen.runtime.wire.size_limits import (
    forwarded_frame_limit,
    frame_limit,
    grpc_size_options,
)
from tests.support.grpc_harness import RawPeer, request_message

pytestmark = pytest.mark.timeout(120)


def _request_of_size(size: int, payload: int) -> pb.Message:
    """A request frame of exactly ``size`` bytes with a ``payload``-byte payload.

    Its request id is empty (not encoded), so the host's own id makes the
    forwarded frame longer by all of its length.
    """
    message = pb.Message()
    request = message.request
    request.target.type, request.target.key = "at-limit", "k"
    request.payload.data_type = "google.protobuf.BytesValue"
    request.payload.data_content_type = "application/x-protobuf"
    request.payload.data = b"p" * payload
    return _padded(message, request.metadata, size)


def _padded(
    message: pb.Message, metadata: MutableMapping[str, str], size: int
) -> pb.Message:
    """``message`` grown to exactly ``size`` bytes by a ``padding`` metadata entry."""
    padding = max(size - message.ByteSize(), 0)
    while True:
        metadata["padding"] = "m" * padding
        missing = size - message.ByteSize()
        if missing == 0:
            return message
        padding += missing


async def test_a_request_right_at_the_frame_limit_gets_the_hosts_longer_id() -> None:
    limit = 4096
    receive = dict(grpc_size_options(limit))["grpc.max_receive_message_length"]
    at_limit = _request_of_size(frame_limit(limit), limit)
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=limit) as host,
        RawPeer(host.address, max_receive=receive) as target,
        RawPeer(host.address, max_receive=receive) as caller,
    ):
        await target.register("at-limit")
        # Ten requests: the host's ids now have two-digit counters.
        for index in range(10):
            last = index == 9
            await caller.send(at_limit if last else request_message("", "at-limit"))
            forwarded = await target.answer_next_request()
            assert forwarded.request_id
            assert not (await caller.receive()).response.error
        assert forwarded.payload.data == at_limit.request.payload.data
        assert forwarded.metadata == at_limit.request.metadata
        assert host.counters.rpc_replies == 10


async def test_a_reply_that_outgrows_the_limit_with_its_callers_id_fails_alone() -> (
    None
):
    limit = 4096
    receive = dict(grpc_size_options(limit))["grpc.max_receive_message_length"]
    long_id = "c" * 300  # the caller chooses its request ids
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=limit) as host,
        RawPeer(host.address, max_receive=receive) as target,
        RawPeer(host.address, max_receive=receive) as caller,
    ):
        await target.register("at-limit")
        await caller.send(request_message(long_id, "at-limit"))
        forwarded = (await target.receive()).request
        reply = pb.Message()
        reply.response.request_id = forwarded.request_id
        # Within the limit with the host's id, over it with the caller's.
        _padded(reply, reply.response.metadata, forwarded_frame_limit(limit) - 100)
        await target.send(reply)
        refused = (await caller.receive()).response
        assert refused.request_id == long_id
        assert refused.metadata[ERROR_KIND_KEY] == RpcErrorKind.TOO_LARGE.value
        assert "once its request id is rewritten" in refused.error
        assert host.counters.oversized_frames == 1
        # Both streams go on: the next call is answered.
        await caller.send(request_message("next", "at-limit"))
        await target.answer_next_request()
        assert (await caller.receive()).response.request_id == "next"


async def test_a_request_that_outgrows_the_limit_with_the_hosts_id_fails_alone() -> (
    None
):
    limit = 4096
    receive = dict(grpc_size_options(limit))["grpc.max_receive_message_length"]
    # gRPC takes it (within its receive limit); the host's id pushes it over.
    too_long = _request_of_size(forwarded_frame_limit(limit) + 8, limit)
    async with (
        GrpcHost("127.0.0.1:0", max_message_size=limit) as host,
        RawPeer(host.address, max_receive=receive) as target,
        RawPeer(host.address, max_receive=receive) as caller,
    ):
        await target.register("at-limit")
        await caller.send(too_long)
        refused = (await caller.receive()).response
        assert refused.metadata[ERROR_KIND_KEY] == RpcErrorKind.TOO_LARGE.value
        assert host.counters.oversized_frames == 1
        assert host.counters.rpc_forwarded == 0
        await caller.send(request_message("next", "at-limit"))
        assert (await target.receive()).request.payload.data == b'"ping"'
