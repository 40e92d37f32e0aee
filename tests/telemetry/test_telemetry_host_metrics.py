"""``agentgen host --metrics-address``: Prometheus text after known traffic."""

from __future__ import annotations

import asyncio
import re
import urllib.error
import urllib.request
from typing import ClassVar

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    Agent,
    AgentId,
    Handler,
    MessageContext,
    TopicId,
    UndeliverableError,
)
from agentgen.runtime.grpc import GrpcWorkerRuntime
from tests.cli.host_process import host_process, read_line

pytestmark = pytest.mark.timeout(120)

_METRICS_LINE = re.compile(r"agentgen host metrics on (http://\S+/metrics)")


class Counting(Agent):
    """Echoes texts; counts the numbers published to it."""

    AGENT_TYPE = "counting"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("numbers",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
        Handler("on_number", wrappers_pb2.Int64Value, None),
    )
    numbers: ClassVar[asyncio.Queue[int]]

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        return message

    async def on_number(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        await Counting.numbers.put(message.value)


def scrape(url: str) -> tuple[str, dict[str, float]]:
    """The content type and every sample of the page, by name and labels."""
    with urllib.request.urlopen(url, timeout=10) as response:
        content_type = response.headers["Content-Type"]
        text = response.read().decode("utf-8")
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return content_type, samples


async def test_the_metrics_endpoint_counts_the_traffic() -> None:
    Counting.numbers = asyncio.Queue()
    with host_process(
        "--address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"
    ) as host:
        match = _METRICS_LINE.fullmatch(read_line(host.process, 30))
        assert match is not None
        url = match.group(1)
        async with (
            GrpcWorkerRuntime(host.address) as serving,
            GrpcWorkerRuntime(host.address) as calling,
        ):
            await serving.register_agent_class(Counting)
            for value in range(3):
                await calling.publish_message(
                    wrappers_pb2.Int64Value(value=value), TopicId("numbers", "k")
                )
            for _ in range(2):
                await calling.send_message(
                    wrappers_pb2.StringValue(value="hi"), AgentId("counting", "k")
                )
            with pytest.raises(UndeliverableError):
                await calling.send_message(
                    wrappers_pb2.StringValue(value="hi"), AgentId("nobody", "k")
                )
            async with asyncio.timeout(10):
                assert [await Counting.numbers.get() for _ in range(3)] == [0, 1, 2]
            content_type, samples = await asyncio.to_thread(scrape, url)
            clients_while_connected = samples["agentgen_host_clients"]

    assert content_type.startswith("text/plain; version=0.0.4")
    expected = {
        "agentgen_host_events_routed_total": 3,
        "agentgen_host_event_deliveries_total": 3,
        "agentgen_host_rpc_forwarded_total": 2,
        "agentgen_host_rpc_replies_total": 2,
        "agentgen_host_rpc_undeliverable_total": 1,
        "agentgen_host_events_held_total": 0,
        "agentgen_host_held_events": 0,
        "agentgen_host_queued_frames": 0,
        'agentgen_host_rpc_duration_seconds_count{agent_type="counting"}': 2,
        'agentgen_host_rpc_duration_seconds_bucket{agent_type="counting",le="+Inf"}': 2,
    }
    assert {name: samples.get(name) for name in expected} == expected
    assert samples['agentgen_host_rpc_duration_seconds_sum{agent_type="counting"}'] > 0
    # An agentgen worker is two clients: its serving and its calls stream.
    assert clients_while_connected == 4
    assert all(
        name.startswith("agentgen_") for name in samples
    ), "every metric is prefixed agentgen_"


def test_a_busy_metrics_port_is_one_line_not_a_traceback() -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "agentgen",
                "host",
                "--address",
                "127.0.0.1:0",
                "--metrics-address",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert completed.returncode == 1
    (line,) = completed.stderr.splitlines()
    assert line.startswith(
        f"agentgen host: error: cannot serve metrics on 127.0.0.1:{port}: "
    )
    assert "address already in use" in line.lower()


def test_other_paths_are_not_found() -> None:
    with host_process(
        "--address", "127.0.0.1:0", "--metrics-address", "127.0.0.1:0"
    ) as host:
        match = _METRICS_LINE.fullmatch(read_line(host.process, 30))
        assert match is not None
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(match.group(1).replace("/metrics", "/"), timeout=10)
        assert error.value.code == 404
