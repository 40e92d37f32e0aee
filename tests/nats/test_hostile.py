"""Junk on the subjects and in the bucket a NATS worker uses.

Whatever arrives (malformed batches, frames that are not protobuf or of the
wrong kind, undecodable or unknown payloads, requests for agents it does not
serve, malformed routing entries), the worker counts it, logs it once, skips
it, and goes on serving.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator

import pytest
from google.protobuf import wrappers_pb2
from nats.aio.client import Client

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import AgentId
from agentgen.runtime.nats import NatsWorkerRuntime
from agentgen.runtime.wire.batches import pack
from agentgen.runtime.wire.rpc_error_kinds import ERROR_KIND_KEY, RpcErrorKind
from tests.support.agents import Arrivals, Collector, register_collector
from tests.support.grpc_harness import event_message, request_message, wait_until
from tests.support.nats_servers import NatsServer

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def arrivals() -> Arrivals:
    return Arrivals()


@pytest.fixture
async def worker(
    nats_session_server: NatsServer, nats_namespace: str, arrivals: Arrivals
) -> AsyncIterator[NatsWorkerRuntime]:
    async with NatsWorkerRuntime(
        nats_session_server.url, namespace=nats_namespace, lease=3
    ) as runtime:
        await register_collector(runtime, arrivals)
        yield runtime


async def still_serving(worker: NatsWorkerRuntime) -> None:
    reply = await worker.send_message(
        wrappers_pb2.StringValue(value="ok"), AgentId(Collector.AGENT_TYPE, "k")
    )
    assert reply == wrappers_pb2.StringValue(value="echo:ok")


async def test_junk_on_the_events_subject_is_counted_and_skipped(
    worker: NatsWorkerRuntime,
    nats_client: Client,
    arrivals: Arrivals,
    caplog: pytest.LogCaptureFixture,
) -> None:
    subject = worker.subjects.events(worker.worker_id)
    undecodable = event_message("news", "k")
    undecodable.cloudEvent.proto_data.value = b"\xff\xff not a StringValue"
    unknown = event_message("news", "k")
    unknown.cloudEvent.attributes["dataschema"].ce_string = "no.such.Type"
    unknown.cloudEvent.proto_data.type_url = "type.googleapis.com/no.such.Type"
    malformed_batches = [b"\x05abc", b"\x80", b"\xff" * 11 + b"\x01"]
    junk_frames = [
        b"\x0a\x05ab",  # a field longer than the frame: not protobuf
        b"",  # no message at all
        request_message("r1", Collector.AGENT_TYPE).SerializeToString(),
        undecodable.SerializeToString(),
        unknown.SerializeToString(),
    ]
    good = event_message("news", "k").SerializeToString()
    with caplog.at_level(logging.WARNING, logger="agentgen.runtime.nats"):
        for _ in range(3):  # each kind logged once, counted every time
            for payload in malformed_batches:
                await nats_client.publish(subject, payload)
            for frame in junk_frames:
                await nats_client.publish(subject, pack([frame]))
        # A good frame among junk in one batch is delivered all the same.
        await nats_client.publish(subject, pack([*junk_frames, good]))
        await nats_client.flush()

        def skipped() -> int:
            counters = worker.counters
            return (
                counters.malformed_batches
                + counters.malformed_frames
                + counters.unknown_frames
            )

        expected = 3 * len(malformed_batches) + 4 * len(junk_frames)
        await wait_until(lambda: skipped() == expected, "every skip counted")
        assert await arrivals.wait_for(1) == ["to news"]
        await still_serving(worker)
    assert worker.counters.malformed_batches == 3 * len(malformed_batches)
    assert worker.counters.internal_errors == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 + len(junk_frames)  # one per kind


async def test_bad_requests_get_error_replies_and_the_worker_goes_on(
    worker: NatsWorkerRuntime, nats_client: Client
) -> None:
    subject = worker.subjects.requests(worker.worker_id)
    bad_target = request_message("r1", "no-such-type")
    undecodable = request_message("r2", Collector.AGENT_TYPE)
    undecodable.request.payload.data_content_type = "application/x-protobuf"
    undecodable.request.payload.data = b"\xff\xff"
    for message, kind in (
        (bad_target, RpcErrorKind.UNDELIVERABLE),
        (undecodable, RpcErrorKind.UNDECODABLE),
    ):
        reply = await nats_client.request(
            subject, message.SerializeToString(), timeout=5
        )
        response = pb.Message.FromString(reply.data).response
        assert response.request_id == message.request.request_id
        assert response.metadata[ERROR_KIND_KEY] == kind.value
    await nats_client.publish(subject, os.urandom(32))  # no reply subject, no frame
    await nats_client.flush()
    await still_serving(worker)
    assert worker.counters.malformed_frames >= 1


async def test_a_malformed_routing_entry_is_skipped(
    worker: NatsWorkerRuntime, nats_client: Client
) -> None:
    kv = await nats_client.jetstream().key_value(worker.subjects.bucket)
    await kv.put("w.intruder", b"{not json")
    await kv.put("w.other", b'{"v": 1, "types": "not a list", "subs": 3}')
    await kv.put("junk-key", b"whatever")
    await wait_until(
        lambda: worker.counters.malformed_entries == 2, "the entries to be read"
    )
    assert set(worker.view.workers) == {worker.worker_id}
    await still_serving(worker)
