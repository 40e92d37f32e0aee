"""Fixtures of the gRPC tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agentgen.runtime.grpc import GrpcHost


@pytest.fixture
async def host() -> AsyncIterator[GrpcHost]:
    """A GrpcHost on a free loopback port (a test module may define its own)."""
    async with GrpcHost("127.0.0.1:0", rpc_timeout=10) as running:
        yield running
