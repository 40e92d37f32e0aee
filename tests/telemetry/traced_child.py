"""An agentgen host or worker in a process of its own, tracing to memory.

Usage: ``traced_child.py host`` or ``traced_child.py relay|answerer HOST:PORT``.
It installs the OpenTelemetry SDK as the global tracer provider (no agentgen
call: the runtime finds it at start), prints ``{"event": "ready", ...}``,
and on the command ``{"cmd": "stop"}`` stops and prints its finished spans
(``{"event": "spans", "spans": [...]}``, see ``span_dump.py``).

Agents: ``relay`` (topic ``conversation``) asks ``answerer/<source>`` by RPC
and publishes the answer on topic ``answers``; ``answerer`` answers
``StringValue`` with ``answer:<text>``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any, ClassVar

from google.protobuf import wrappers_pb2

from agentgen.runtime import Agent, AgentId, Handler, MessageContext, TopicId
from agentgen.runtime.grpc import GrpcHost, GrpcWorkerRuntime
from tests.telemetry.span_dump import span_dict, use_memory_exporter


class Relay(Agent):
    """Asks the answerer of the topic's source; publishes what it answers."""

    AGENT_TYPE = "relay"
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = ("conversation",)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, None),
    )

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> None:
        assert ctx.topic_id is not None
        source = ctx.topic_id.source
        answer = await self.runtime.send_message(
            message, AgentId("answerer", source), sender=self.id
        )
        await self.runtime.publish_message(
            answer, TopicId("answers", source), sender=self.id
        )


class Answerer(Agent):
    """Answers a text with ``answer:<text>``."""

    AGENT_TYPE = "answerer"
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
    )

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        return wrappers_pb2.StringValue(value=f"answer:{message.value}")


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def wait_for_stop() -> None:
    """Until the command line ``{"cmd": "stop"}`` (or the end of stdin)."""
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line or json.loads(line).get("cmd") == "stop":
            return


async def main(role: str, host_address: str | None) -> None:
    exporter = use_memory_exporter()
    if role == "host":
        host = GrpcHost("127.0.0.1:0")
        await host.start()
        emit("ready", address=host.address)
        await wait_for_stop()
        await host.stop()
    else:
        assert host_address is not None
        runtime = GrpcWorkerRuntime(host_address)
        await runtime.start()
        await runtime.register_agent_class(Relay if role == "relay" else Answerer)
        emit("ready")
        await wait_for_stop()
        await runtime.stop()
    emit("spans", spans=[span_dict(span) for span in exporter.get_finished_spans()])


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
