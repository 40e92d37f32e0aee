"""Fixtures every test folder may use: a session's NATS server.

One real ``nats-server`` (JetStream, loopback, store in a temporary folder)
serves the whole session once a test asks for it; each test gets a namespace
of its own (``nats_namespace``), so their routing states never meet. The
server is stopped by its pid when the session ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.nats_servers import NatsServer, start_server


@pytest.fixture(scope="session")
def nats_session_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[NatsServer]:
    """One JetStream server for the session (started on first use)."""
    server = start_server(tmp_path_factory.mktemp("nats-session"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_namespace() -> str:
    """A namespace (routing bucket and subjects) of this test's own."""
    return f"t{uuid.uuid4().hex[:12]}"
