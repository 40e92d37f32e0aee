"""How a worker opens its streams: the batch stream first, the probe alongside.

Against a host offering the batch stream, the stream's initial metadata is
enough (one round trip): the worker does not wait for its ``GetSubscriptions``
probe and cancels it. The fallbacks (AutoGen hosts, agentgen hosts without
batching) are covered by ``tests/grpc/e2e/test_batch_channel.py`` and
``tests/interop``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from agentgen.runtime.grpc.protocol import batching, service
from tests.support.grpc_harness import DEFAULT_WAIT, running_worker, wait_until

pytestmark = pytest.mark.timeout(60)


class StallingHost:
    """Serves the batch stream with agentgen's markers; never answers probes."""

    def __init__(self) -> None:
        self.probes = 0
        self.probes_cancelled = 0
        self.streams = 0

    async def open_batch_channel(
        self,
        batches: AsyncIterator[bytes],
        context: grpc.aio.ServicerContext[bytes, bytes],
    ) -> None:
        self.streams += 1
        await context.send_initial_metadata(
            ((service.HOST_MARKER_HEADER, "1"), (batching.BATCH_HEADER, "1"))
        )
        async for _ in batches:
            pass

    async def get_subscriptions(
        self, request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> bytes:
        self.probes += 1
        try:
            await asyncio.sleep(3 * DEFAULT_WAIT)
        except asyncio.CancelledError:
            self.probes_cancelled += 1
            raise
        return b""

    def handlers(self) -> tuple[grpc.GenericRpcHandler[bytes, bytes], ...]:
        return (
            grpc.method_handlers_generic_handler(
                batching.BATCH_SERVICE,
                {
                    batching.BATCH_METHOD: grpc.stream_stream_rpc_method_handler(
                        self.open_batch_channel
                    )
                },
            ),
            grpc.method_handlers_generic_handler(
                service.SERVICE_NAME,
                {
                    service.GET_SUBSCRIPTIONS: grpc.unary_unary_rpc_method_handler(
                        self.get_subscriptions
                    )
                },
            ),
        )


async def test_the_batch_streams_metadata_is_enough_and_the_probe_is_cancelled() -> (
    None
):
    host = StallingHost()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(host.handlers())
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        # The probes would time out after connect_timeout: start must not wait.
        async with running_worker(
            f"127.0.0.1:{port}", connect_timeout=3 * DEFAULT_WAIT
        ) as worker:
            assert worker.batched
            assert host.streams == 2  # serving and calls
            await wait_until(
                lambda: host.probes_cancelled == host.probes, "probes cancelled"
            )
    finally:
        await server.stop(None)
