"""Publishes and RPCs, in process and through a gRPC host, in a fresh interpreter.

Usage: ``quiet_child.py plain`` prints the OpenTelemetry and prometheus-client
modules imported by then (none expected: tracing is off). ``quiet_child.py
sdk`` installs the OpenTelemetry SDK first and prints how many spans were
exported (``AUTOGEN_DISABLE_RUNTIME_TRACING=true`` must make that zero).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import ClassVar

from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    Agent,
    AgentId,
    AgentRuntime,
    Handler,
    InProcessRuntime,
    MessageContext,
    TopicId,
)
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime


class Echo(Agent):
    """Echoes texts; counts numbers."""

    AGENT_TYPE = "echo"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("numbers",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
        Handler("on_number", wrappers_pb2.Int64Value, None),
    )
    numbers = 0
    second_number: asyncio.Event

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        return message

    async def on_number(
        self, message: wrappers_pb2.Int64Value, ctx: MessageContext
    ) -> None:
        Echo.numbers += 1
        if Echo.numbers == 2:
            Echo.second_number.set()


async def exchange(runtime: AgentRuntime) -> None:
    await runtime.publish_message(
        wrappers_pb2.Int64Value(value=1), TopicId("numbers", "k")
    )
    reply = await runtime.send_message(
        wrappers_pb2.StringValue(value="hi"), AgentId("echo", "k")
    )
    assert reply.value == "hi"


async def main() -> None:
    Echo.second_number = asyncio.Event()
    in_process = InProcessRuntime()
    await in_process.register_agent_class(Echo)
    async with in_process:
        await exchange(in_process)
        await in_process.stop_when_idle()
    async with (
        GrpcHost("127.0.0.1:0") as host,
        GrpcWorkerRuntime(host.address) as worker,
    ):
        await worker.register_agent_class(Echo)
        await exchange(worker)
        async with asyncio.timeout(10):
            await Echo.second_number.wait()


if __name__ == "__main__":
    if sys.argv[1] == "sdk":
        from tests.telemetry.span_dump import use_memory_exporter

        exporter = use_memory_exporter()
        asyncio.run(main())
        print(json.dumps({"spans": len(exporter.get_finished_spans())}))
    else:
        asyncio.run(main())
        loaded = sorted(
            name
            for name in sys.modules
            if name.split(".")[0] in ("opentelemetry", "prometheus_client")
        )
        print(json.dumps({"modules": loaded}))
