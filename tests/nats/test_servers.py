"""The fixtures start real servers: core NATS, JetStream KV, a cluster that
survives the loss of a member."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import KeyValueConfig

from tests.support.nats_servers import HOST, NatsCluster, NatsServer

T = TypeVar("T")

FAILOVER_DEADLINE = 60.0
"""Seconds a replicated bucket gets to serve writes again after a kill."""


async def retry_until(
    attempt: Callable[[], Awaitable[T]], deadline: float, pause: float = 0.05
) -> T:
    """``attempt()`` until it returns, NATS errors aside, before ``deadline``."""
    while True:
        try:
            return await attempt()
        except (nats.errors.Error, TimeoutError):
            if time.monotonic() + pause > deadline:
                raise
            await asyncio.sleep(pause)  # a bounded back-off between attempts


async def test_request_reply_headers_and_no_responders(
    nats_server: NatsServer,
) -> None:
    client = await nats.connect(nats_server.url, connect_timeout=5)
    try:

        async def answer(msg: Msg) -> None:
            await msg.respond(msg.data.upper())

        await client.subscribe("echo", cb=answer)
        reply = await client.request("echo", b"ping", timeout=5)
        assert reply.data == b"PING"

        received: asyncio.Queue[Msg] = asyncio.Queue()
        headed = await client.subscribe("headed", cb=received.put)
        await client.publish("headed", b"x", headers={"Agent-Type": "Echo"})
        message = await asyncio.wait_for(received.get(), 5)
        assert message.headers == {"Agent-Type": "Echo"}
        await headed.unsubscribe()

        with pytest.raises(nats.errors.NoRespondersError):
            await client.request("nobody.listens", b"?", timeout=5)
    finally:
        await client.close()


async def test_jetstream_key_value(nats_server: NatsServer) -> None:
    client = await nats.connect(nats_server.url, connect_timeout=5)
    try:
        kv = await client.jetstream(timeout=5).create_key_value(
            KeyValueConfig(bucket="routes", history=1)
        )
        revision = await kv.create("Echo", b"worker-1")
        with pytest.raises(nats.js.errors.KeyWrongLastSequenceError):
            await kv.create("Echo", b"worker-2")
        assert (await kv.get("Echo")).value == b"worker-1"
        assert await kv.update("Echo", b"worker-3", last=revision) > revision
    finally:
        await client.close()


def test_stop_by_pid_frees_the_port(nats_server: NatsServer) -> None:
    pid = nats_server.pid
    assert nats_server.stop() == 0
    assert not nats_server.running
    with pytest.raises(ConnectionRefusedError), socket.socket() as probe:
        probe.settimeout(5)
        probe.connect((HOST, nats_server.spec.port))
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def _stream_leader(client: Client, stream: str) -> str:
    info = await client.jetstream(timeout=5).stream_info(stream)
    assert info.cluster is not None and info.cluster.leader is not None
    return info.cluster.leader


async def _replicated_bucket(cluster: NatsCluster) -> int:
    """Create the R3 bucket ``routes``; the index of its stream leader."""
    admin = await nats.connect(cluster.urls, connect_timeout=5)
    try:
        await admin.jetstream(timeout=10).create_key_value(
            KeyValueConfig(bucket="routes", history=1, replicas=3)
        )
        return cluster.index_of(await _stream_leader(admin, "KV_routes"))
    finally:
        await admin.close()


async def _connect_to(cluster: NatsCluster, first: int, **options: Any) -> Client:
    """A client given every member's URL, connected to member ``first``."""
    urls = cluster.urls
    ordered = [urls[first], *(url for i, url in enumerate(urls) if i != first)]
    client = await nats.connect(
        ordered, dont_randomize=True, connect_timeout=2, **options
    )
    assert client.connected_url is not None
    assert client.connected_url.port == cluster.servers[first].spec.port
    return client


async def test_replicated_bucket_survives_killing_its_leader(
    nats_cluster: NatsCluster,
) -> None:
    leader = await _replicated_bucket(nats_cluster)
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    # The measured client starts on the stream leader's server, so killing it
    # costs both a client reconnect and a stream leader election.
    client = await _connect_to(
        nats_cluster,
        leader,
        reconnect_time_wait=1,
        max_reconnect_attempts=60,
        reconnected_cb=on_reconnect,
    )
    try:
        kv = await client.jetstream(timeout=2).key_value("routes")
        await kv.put("Echo", b"before")

        killed_at = time.monotonic()
        nats_cluster.kill(leader)
        deadline = killed_at + FAILOVER_DEADLINE
        await asyncio.wait_for(reconnected.wait(), FAILOVER_DEADLINE)
        reconnect_seconds = time.monotonic() - killed_at
        assert client.connected_url is not None
        assert client.connected_url.port != nats_cluster.servers[leader].spec.port

        await retry_until(lambda: kv.put("Echo", b"after"), deadline)
        write_seconds = time.monotonic() - killed_at
        assert (await kv.get("Echo")).value == b"after"
        print(
            f"leader kill: reconnected after {reconnect_seconds:.3f}s, "
            f"first write after {write_seconds:.3f}s"
        )

        new_leader = await _stream_leader(client, "KV_routes")
        assert new_leader != nats_cluster.servers[leader].spec.name
    finally:
        await client.close()


async def test_restarted_member_catches_up(nats_cluster: NatsCluster) -> None:
    leader = await _replicated_bucket(nats_cluster)
    follower = (leader + 1) % len(nats_cluster.servers)
    # On the leader's server: a client of the killed server could lose a
    # request written before it noticed the disconnect (at most once).
    client = await _connect_to(nats_cluster, leader)
    try:
        kv = await client.jetstream(timeout=5).key_value("routes")
        nats_cluster.kill(follower)
        # Two of three replicas are a quorum: writes go on without the follower.
        revision = await kv.put("Echo", b"while-down")
        await asyncio.to_thread(nats_cluster.restart, follower)

        # The restarted replica reports itself current (it has the write it
        # missed), and a client of that server alone reads it.
        name = nats_cluster.servers[follower].spec.name
        deadline = time.monotonic() + FAILOVER_DEADLINE

        async def replica_current() -> None:
            info = await client.jetstream(timeout=5).stream_info("KV_routes")
            assert info.cluster is not None
            peers = {peer.name: peer for peer in info.cluster.replicas or []}
            if name not in peers or not peers[name].current:
                raise nats.errors.Error(f"{name} is not current yet")

        await retry_until(replica_current, deadline, pause=0.1)
        alone = await nats.connect(nats_cluster.servers[follower].url)
        try:
            entry = await (await alone.jetstream(timeout=5).key_value("routes")).get(
                "Echo"
            )
            assert (entry.value, entry.revision) == (b"while-down", revision)
        finally:
            await alone.close()
    finally:
        await client.close()
