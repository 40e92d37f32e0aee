"""The Python side of AutoGen's cross-language hello, as AutoGen 0.7.5 ships it.

Written for the tests from the description of AutoGen's
``core_xlang_hello_python_agent`` sample, unchanged in what it does on the
wire: its ``UserProxy`` registers as agent type ``HelloAgent`` (the type the
other side's HelloAgent serves too), subscribed to ``default``,
``HelloTopic``, ``agents.NewMessageReceived``, ``agents.ConversationClosed``
and ``agents.Output``; payloads are protobuf; as ``HelloAgents/python`` it
publishes ``NewMessageReceived`` and ``Output`` to
``TopicId("HelloTopic", "HelloAgents/python")``.

Usage (with the AutoGen venv's Python, the gencode of
``xlang_hello/protos/agent_events.proto`` on ``PYTHONPATH``)::

    xlang_hello.py --host 127.0.0.1:PORT

Events (stdout): ``ready`` (registered and subscribed), ``refused`` (the host
refused the registration; the peer then exits 1), ``published`` (both
messages), ``received`` (each message ``UserProxy`` handles), ``stopped``.
It serves until stdin closes or a ``stop`` command arrives.
"""

# AutoGen and the gencode exist only in the AutoGen venv, not where mypy runs:
# mypy: disable-error-code="import-not-found"
# mypy: allow-subclassing-any, allow-untyped-decorators

from __future__ import annotations

import argparse
import asyncio
import sys

from autogen_core import (
    PROTOBUF_DATA_CONTENT_TYPE,
    AgentId,
    DefaultSubscription,
    MessageContext,
    RoutedAgent,
    TopicId,
    TypeSubscription,
    message_handler,
    try_get_known_serializers_for_type,
)
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntime
from google.protobuf import json_format
from peer_io import emit, stdin_commands
from protos.agent_events_pb2 import (
    ConversationClosed,
    Input,
    NewMessageReceived,
    Output,
)

AGENT_TYPE = "HelloAgent"
SUBSCRIBED_TOPICS = (
    "HelloTopic",
    "agents.NewMessageReceived",
    "agents.ConversationClosed",
    "agents.Output",
)
CONVERSATION = TopicId("HelloTopic", "HelloAgents/python")
SENDER = AgentId("HelloAgents", "python")


class UserProxy(RoutedAgent):
    """The sample's user proxy: one handler for what the user is shown.

    It reports every message it handles instead of logging it, and asks
    nobody for input (the sample reads the console on ``Input``).
    """

    def __init__(self) -> None:
        super().__init__("A human user.")

    @message_handler
    async def handle_user_chat_input(
        self, message: ConversationClosed | Input | Output, ctx: MessageContext
    ) -> None:
        topic = ctx.topic_id
        emit(
            "received",
            agent=f"{self.id.type}/{self.id.key}",
            message_type=message.DESCRIPTOR.full_name,
            message=json_format.MessageToDict(message),
            sender=None if ctx.sender is None else str(ctx.sender),
            topic=(
                None if topic is None else {"type": topic.type, "source": topic.source}
            ),
        )


async def join(runtime: GrpcWorkerAgentRuntime) -> bool:
    """Register and subscribe as the sample does; ``False`` if refused."""
    runtime.add_message_serializer(
        try_get_known_serializers_for_type(NewMessageReceived)
    )
    try:
        await UserProxy.register(runtime, AGENT_TYPE, lambda: UserProxy())
    except Exception as error:  # the host's refusal, reported to the test
        emit("refused", error_type=type(error).__name__, error=str(error))
        return False
    await runtime.add_subscription(DefaultSubscription(agent_type=AGENT_TYPE))
    for topic_type in SUBSCRIBED_TOPICS:
        await runtime.add_subscription(
            TypeSubscription(topic_type=topic_type, agent_type=AGENT_TYPE)
        )
    return True


async def main() -> int:
    parser = argparse.ArgumentParser(description="AutoGen's xlang hello, Python side")
    parser.add_argument("--host", required=True)
    options = parser.parse_args()
    runtime = GrpcWorkerAgentRuntime(
        host_address=options.host,
        payload_serialization_format=PROTOBUF_DATA_CONTENT_TYPE,
    )
    await runtime.start()
    if not await join(runtime):
        await runtime.stop()
        return 1
    emit("ready")
    await runtime.publish_message(
        NewMessageReceived(message="Hello from Python!"), CONVERSATION, sender=SENDER
    )
    runtime.add_message_serializer(try_get_known_serializers_for_type(Output))
    await runtime.publish_message(
        Output(message="^v^v^v---Wild Hello from Python!---^v^v^v"),
        CONVERSATION,
        sender=SENDER,
    )
    emit("published")
    async for command in stdin_commands():
        if command["cmd"] == "stop":
            break
    await runtime.stop()
    emit("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
