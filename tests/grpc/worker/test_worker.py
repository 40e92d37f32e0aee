"""GrpcWorkerRuntime on its own: raw peers' frames, registrations, idleness, state.

A real GrpcHost carries the frames; what is checked is the worker's side.
Workers talking to each other are in ``tests/grpc/e2e/test_workers.py``.
"""

from __future__ import annotations

import pytest
from google.protobuf import empty_pb2, wrappers_pb2

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import (
    JSON_CONTENT_TYPE,
    PROTOBUF_CONTENT_TYPE,
    AgentId,
    TopicId,
    TypeSubscription,
)
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime
from tests.support.agents import Arrivals, Collector, register_collector
from tests.support.grpc_harness import RawPeer, bounded, running_worker, wait_until

pytestmark = pytest.mark.timeout(60)


async def test_raw_peer_requests_are_answered_in_their_content_type(
    host: GrpcHost,
) -> None:
    arrivals = Arrivals()
    async with running_worker(host.address) as worker, RawPeer(host.address) as peer:
        await register_collector(worker, arrivals)
        for request_id, content_type, data in (
            ("json-1", JSON_CONTENT_TYPE, b'"as json"'),
            (
                "proto-1",
                PROTOBUF_CONTENT_TYPE,
                _packed(wrappers_pb2.StringValue(value="as proto")),
            ),
        ):
            request = pb.Message()
            request.request.request_id = request_id
            request.request.target.type = "collector"
            request.request.target.key = "raw"
            payload = request.request.payload
            payload.data_type = "google.protobuf.StringValue"
            payload.data_content_type = content_type
            payload.data = data
            await peer.send(request)
            response = (await peer.receive()).response
            assert response.request_id == request_id
            assert response.error == ""
            assert response.payload.data_content_type == content_type
            assert response.payload.data_type == "google.protobuf.StringValue"
        assert response.payload.data == _packed(
            wrappers_pb2.StringValue(value="echo:as proto")
        )


def _packed(message: wrappers_pb2.StringValue) -> bytes:
    from google.protobuf import any_pb2

    packed = any_pb2.Any()
    packed.Pack(message)
    return packed.SerializeToString()


async def test_registrations_made_before_start_are_sent_on_start(
    host: GrpcHost,
) -> None:
    worker = GrpcWorkerRuntime(host.address)
    arrivals = Arrivals()
    await register_collector(worker, arrivals)
    await worker.add_subscription(TypeSubscription("extra", "collector", id="fixed"))
    async with worker, running_worker(host.address) as publisher:
        assert host.agent_types["collector"] == worker.client_id
        await publisher.publish_message(
            wrappers_pb2.StringValue(value="e"), TopicId("extra", "k")
        )
        assert await arrivals.wait_for(1) == ["e"]
        await worker.remove_subscription("fixed")
        await publisher.publish_message(
            wrappers_pb2.StringValue(value="gone"), TopicId("extra", "k")
        )
        await publisher.publish_message(
            wrappers_pb2.StringValue(value="still"), TopicId("news", "k")
        )
        assert await arrivals.wait_for(2) == ["e", "still"]


async def test_stop_when_idle_waits_for_queued_and_running_handlers(
    host: GrpcHost,
) -> None:
    import asyncio

    arrivals = Arrivals()
    async with running_worker(host.address) as publisher:
        worker = GrpcWorkerRuntime(host.address)
        await register_collector(worker, arrivals)
        await worker.start()
        agent = await worker.get_agent(AgentId("collector", "k"))
        assert isinstance(agent, Collector)
        agent.gate = asyncio.Event()
        for number in range(5):
            await publisher.publish_message(
                wrappers_pb2.Int64Value(value=number), TopicId("news", "k")
            )
        await wait_until(
            lambda: worker.counters.events_received == 5, "the events to arrive"
        )
        stopping = asyncio.create_task(worker.stop_when_idle())
        for _ in range(20):  # let it run: it must keep waiting on the gate
            await asyncio.sleep(0)
        assert not stopping.done()
        assert agent.total == 0
        agent.gate.set()
        await bounded(stopping)
        assert agent.total == 10
        assert not worker.is_running


async def test_state_is_saved_and_loaded_per_agent_and_whole(host: GrpcHost) -> None:
    arrivals = Arrivals()
    async with (
        running_worker(host.address) as worker,
        running_worker(host.address) as caller,
    ):
        await register_collector(worker, arrivals)
        for key, value in (("a", 3), ("b", 4)):
            await caller.send_message(
                wrappers_pb2.Int64Value(value=value), AgentId("collector", key)
            )
        saved = await worker.save_state()
        assert saved == {"collector/a": {"total": 3}, "collector/b": {"total": 4}}
        assert await worker.agent_save_state(AgentId("collector", "a")) == {"total": 3}
        await worker.agent_load_state(AgentId("collector", "a"), {"total": 30})
    async with running_worker(host.address) as restored:
        await register_collector(restored, Arrivals())
        await restored.load_state(saved)
        assert await restored.agent_save_state(AgentId("collector", "b")) == {
            "total": 4
        }
        await restored.load_state({"collector/a": {"total": 30}})
        assert (await restored.save_state())["collector/a"] == {"total": 30}


async def test_junk_events_are_skipped_and_counted(host: GrpcHost) -> None:
    arrivals = Arrivals()
    async with running_worker(host.address) as worker, RawPeer(host.address) as peer:
        await register_collector(worker, arrivals)
        junk: list[pb.Message] = []
        for mutate in (
            lambda e: e.ClearField("proto_data"),  # no data at all
            lambda e: setattr(e.proto_data, "value", b"\xff\xff garbage"),
            lambda e: e.attributes["dataschema"].__setattr__(
                "ce_string", "google.protobuf.Int64Value"
            ),
            lambda e: e.proto_data.__setattr__("type_url", "type.x/unknown.Type")
            or e.attributes["dataschema"].__setattr__("ce_string", "unknown.Type"),
            lambda e: setattr(e, "binary_data", b"{not json"),
        ):
            message = _event("news", "junk")
            mutate(message.cloudEvent)
            junk.append(message)
        for message in junk:
            await peer.send(message)
        await peer.send_raw(b"\x0a\x02\xff")  # a truncated RpcRequest
        await peer.send(_event("news", "valid"))
        assert await arrivals.wait_for(1) == ["valid"]
        await wait_until(
            lambda: worker.counters.malformed_frames == 5,
            "the junk to be counted",
        )
        assert worker.is_running
        assert worker.counters.events_delivered == 1


def _event(topic_type: str, text: str) -> pb.Message:
    message = pb.Message()
    event = message.cloudEvent
    event.id = f"id-{text}"
    event.type = topic_type
    event.source = "src"
    event.proto_data.Pack(wrappers_pb2.StringValue(value=text))
    event.attributes["datacontenttype"].ce_string = PROTOBUF_CONTENT_TYPE
    event.attributes["dataschema"].ce_string = "google.protobuf.StringValue"
    return message


async def test_dotnet_style_events_without_sender_or_spec_version_are_delivered(
    host: GrpcHost,
) -> None:
    arrivals = Arrivals()
    async with running_worker(host.address) as worker, RawPeer(host.address) as peer:
        await register_collector(worker, arrivals)
        message = _event("news", "from-dotnet")
        await peer.send(message)
        json_event = _event("news", "from-python")
        json_event.cloudEvent.binary_data = b'"from-python"'
        json_event.cloudEvent.attributes["datacontenttype"].ce_string = (
            JSON_CONTENT_TYPE
        )
        for key in ("agagentsendertype", "agagentsenderkey"):
            json_event.cloudEvent.attributes[key].ce_string = "unknown"
        await peer.send(json_event)
        assert await arrivals.wait_for(2) == ["from-dotnet", "from-python"]
    assert all(ctx.sender is None for _, _, ctx in arrivals.items)
    assert arrivals.items[0][2].message_id == "id-from-dotnet"


async def test_published_event_matches_autogen_attributes(host: GrpcHost) -> None:
    async with running_worker(host.address) as worker, RawPeer(host.address) as peer:
        await peer.register("listener")
        await peer.subscribe("wire", "listener")
        await worker.publish_message(
            wrappers_pb2.StringValue(value="w"),
            TopicId("wire", "src"),
            sender=AgentId("pub", "p1"),
            message_id="fixed-id",
        )
        await worker.publish_message(empty_pb2.Empty(), TopicId("wire", "src"))
        with_sender = (await peer.receive()).cloudEvent
        without_sender = (await peer.receive()).cloudEvent
    attributes = {k: v.ce_string for k, v in with_sender.attributes.items()}
    assert attributes == {
        "datacontenttype": PROTOBUF_CONTENT_TYPE,
        "dataschema": "google.protobuf.StringValue",
        "agagentsendertype": "pub",
        "agagentsenderkey": "p1",
        "agmsgkind": "publish",
    }
    assert (with_sender.id, with_sender.type, with_sender.source) == (
        "fixed-id",
        "wire",
        "src",
    )
    assert with_sender.spec_version == "1.0"
    assert with_sender.proto_data.type_url.endswith("/google.protobuf.StringValue")
    assert "agagentsendertype" not in without_sender.attributes
    assert without_sender.id  # a fresh id when none is given


async def test_start_fails_clearly_when_no_host_listens() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    worker = GrpcWorkerRuntime(f"127.0.0.1:{closed_port}", connect_timeout=0.5)
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{closed_port}"):
        await bounded(worker.start())
    assert not worker.is_running
