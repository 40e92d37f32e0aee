"""Fixtures: a real ``nats-server``, a real three-server cluster, a raw client.

The servers run JetStream with stores in the test's ``tmp_path`` and are
stopped by pid at teardown (``servers.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client

from tests.support.nats_servers import (
    NatsCluster,
    NatsServer,
    start_cluster,
    start_server,
)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """One JetStream server on a free loopback port."""
    server = start_server(tmp_path / "nats")
    try:
        yield server
    finally:
        if server.process is not None:
            server.stop()


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """Three routed JetStream servers (a meta leader is elected before use)."""
    cluster = start_cluster(tmp_path / "nats-cluster", size=3)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def nats_client(nats_session_server: NatsServer) -> AsyncIterator[Client]:
    """A plain nats-py client of the session's server (what a peer or an
    attacker sends, without agentgen in between); closed at teardown."""
    client = await nats.connect(nats_session_server.url)
    try:
        yield client
    finally:
        await client.close()
