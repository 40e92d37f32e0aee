"""An AutoGen 0.7.5 worker for the interop tests, driven by JSON lines.

Usage (with the AutoGen venv's Python, the AutoGen gencode of
``interop/v1/interop.proto`` on ``PYTHONPATH``)::

    autogen_worker.py --host 127.0.0.1:PORT --name NAME [--format protobuf|json]
                      [--shared-echo-type TYPE]

It registers four ``RoutedAgent`` types, each through AutoGen's own API:

* ``NAME_typed``: ``@type_subscription("interop.events")``;
* ``NAME_prefixed``: ``TypePrefixSubscription("interop.prefix.", ...)``;
* ``NAME_default``: ``@default_subscription`` (topic type ``"default"``);
* ``NAME_echo``: answers ``EchoRequest`` with ``EchoReply`` (raises for a
  text starting ``raise:``; holds the answer to a text starting ``hold:``
  until a ``release`` command, so tests can keep RPCs in flight together);
* with ``--shared-echo-type TYPE``, also an Echoer as ``TYPE``, a type other
  workers serve too (a host sharing types), which names this process
  (``NAME``) as ``responder``. It answers thousands of requests, so while it is
  registered neither its requests nor decodes are reported.

Serializers: ``BaseAgent.register`` adds the protobuf serializer that
``try_get_known_serializers_for_type`` returns for each handled protobuf type
(``ProtobufMessageSerializer``, ``application/x-protobuf``). AutoGen sends and
answers every RPC in JSON, and has no JSON serializer for protobuf types, so a
JSON serializer (``json_format``, type name = descriptor full name) is added
for each message type (reference section 4.1). Both are wrapped to report
every decode, so the tests can see which encoding arrived.

Commands (stdin): ``publish``, ``send``, ``release``, ``stop``; see
``run_command``. Events (stdout): ``ready``, ``received``, ``decoded``,
``published``, ``reply``, ``rpc_error``, ``released``, ``stopped``.
"""

# AutoGen and the test gencode exist only in the AutoGen venv, not where mypy runs:
# mypy: disable-error-code="import-not-found"
# mypy: allow-subclassing-any, allow-untyped-decorators

from __future__ import annotations

import argparse
import asyncio
from typing import Any, Generic, Protocol, TypeVar

from autogen_core import (
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    AgentId,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    TopicId,
    TypePrefixSubscription,
    default_subscription,
    message_handler,
    try_get_known_serializers_for_type,
    type_subscription,
)
from autogen_ext.runtimes.grpc import GrpcWorkerAgentRuntime
from google.protobuf import json_format
from google.protobuf.message import Message
from interop.v1.interop_pb2 import EchoReply, EchoRequest, Ping
from peer_io import emit, stdin_commands

EVENTS_TOPIC = "interop.events"
PREFIX = "interop.prefix."
FORMATS = {"protobuf": PROTOBUF_DATA_CONTENT_TYPE, "json": JSON_DATA_CONTENT_TYPE}

M = TypeVar("M", bound=Message)


class Serializer(Protocol[M]):
    """The shape of AutoGen's ``MessageSerializer`` (a protocol there too)."""

    @property
    def data_content_type(self) -> str: ...

    @property
    def type_name(self) -> str: ...

    def serialize(self, message: M) -> bytes: ...

    def deserialize(self, payload: bytes) -> M: ...


class ProtobufJsonSerializer(Generic[M]):
    """JSON for one protobuf type, named by its descriptor's full name."""

    def __init__(self, cls: type[M]) -> None:
        self._cls = cls

    @property
    def data_content_type(self) -> str:
        return str(JSON_DATA_CONTENT_TYPE)

    @property
    def type_name(self) -> str:
        return str(self._cls.DESCRIPTOR.full_name)

    def serialize(self, message: M) -> bytes:
        return json_format.MessageToJson(message).encode("utf-8")

    def deserialize(self, payload: bytes) -> M:
        return json_format.Parse(payload, self._cls())


class ReportingSerializer(Generic[M]):
    """Wraps a serializer and reports each payload it decodes."""

    reporting = True
    """Off while a shared echo type is registered (see the module docstring)."""

    def __init__(self, inner: Serializer[M]) -> None:
        self._inner = inner

    @property
    def data_content_type(self) -> str:
        return self._inner.data_content_type

    @property
    def type_name(self) -> str:
        return self._inner.type_name

    def serialize(self, message: M) -> bytes:
        return self._inner.serialize(message)

    def deserialize(self, payload: bytes) -> M:
        if ReportingSerializer.reporting:
            emit(
                "decoded",
                type_name=self.type_name,
                content_type=self.data_content_type,
            )
        return self._inner.deserialize(payload)


def serializers_for(*classes: type[Message]) -> list[Serializer[Any]]:
    """Both encodings of each class, wrapped to report decodes."""
    serializers: list[Serializer[Any]] = []
    for cls in classes:
        serializers.extend(try_get_known_serializers_for_type(cls))
        serializers.append(ProtobufJsonSerializer(cls))
    return [ReportingSerializer(serializer) for serializer in serializers]


def agent_text(agent_id: AgentId | None) -> str | None:
    return None if agent_id is None else f"{agent_id.type}/{agent_id.key}"


def parse_agent(text: str | None) -> AgentId | None:
    if text is None:
        return None
    agent_type, key = text.split("/", 1)
    return AgentId(agent_type, key)


def report_received(agent: RoutedAgent, message: Message, ctx: MessageContext) -> None:
    topic = ctx.topic_id
    emit(
        "received",
        agent=agent_text(agent.id),
        message_type=message.DESCRIPTOR.full_name,
        message=json_format.MessageToDict(message),
        sender=agent_text(ctx.sender),
        message_id=ctx.message_id,
        is_rpc=ctx.is_rpc,
        topic=None if topic is None else {"type": topic.type, "source": topic.source},
    )


class Listener(RoutedAgent):
    """Reports every Ping it receives."""

    def __init__(self) -> None:
        super().__init__("interop listener")

    @message_handler
    async def on_ping(self, message: Ping, ctx: MessageContext) -> None:
        report_received(self, message, ctx)


@type_subscription(EVENTS_TOPIC)
class TypedListener(Listener):
    """Subscribed to the topic type ``interop.events``."""


@default_subscription
class DefaultListener(Listener):
    """Subscribed to the topic type ``default``."""


class Echoer(RoutedAgent):
    """Answers EchoRequest; raises for ``raise:...``, holds ``hold:...``.

    ``responder`` (the process's name) goes in the reply instead of the agent
    id, and then nothing is reported.
    """

    release = asyncio.Event()
    """Set by the ``release`` command: held answers go out."""

    def __init__(self, responder: str | None = None) -> None:
        super().__init__("interop echo")
        self._responder = responder

    @message_handler
    async def on_echo(self, message: EchoRequest, ctx: MessageContext) -> EchoReply:
        if self._responder is None:
            report_received(self, message, ctx)
        if message.text.startswith("raise:"):
            raise RuntimeError(message.text.removeprefix("raise:"))
        if message.text.startswith("hold:"):
            await Echoer.release.wait()
        return EchoReply(
            text=f"echo:{message.text}",
            responder=self._responder or agent_text(self.id),
            big_number=message.big_number + 1,
            tags=list(reversed(message.tags)),
            mood=message.mood,
            counts={key: value * 2 for key, value in message.counts.items()},
        )


async def register_agents(
    runtime: GrpcWorkerAgentRuntime, name: str, shared_echo_type: str | None = None
) -> list[str]:
    """Register the agent types through AutoGen's API; return their names."""
    typed = await TypedListener.register(runtime, f"{name}_typed", TypedListener)
    prefixed = await Listener.register(runtime, f"{name}_prefixed", Listener)
    await runtime.add_subscription(TypePrefixSubscription(PREFIX, prefixed.type))
    default = await DefaultListener.register(
        runtime, f"{name}_default", DefaultListener
    )
    echo = await Echoer.register(runtime, f"{name}_echo", Echoer)
    runtime.add_message_serializer(serializers_for(Ping, EchoRequest, EchoReply))
    types = [typed.type, prefixed.type, default.type, echo.type]
    if shared_echo_type is not None:
        ReportingSerializer.reporting = False
        shared = await Echoer.register(
            runtime, shared_echo_type, lambda: Echoer(responder=name)
        )
        types.append(shared.type)
    return types


async def publish(runtime: GrpcWorkerAgentRuntime, command: dict[str, Any]) -> None:
    topic_type = command["topic_type"]
    topic = (
        DefaultTopicId(source=command["topic_source"])
        if topic_type == "default"
        else TopicId(topic_type, command["topic_source"])
    )
    await runtime.publish_message(
        Ping(text=command["text"], seq=command["seq"]),
        topic,
        sender=parse_agent(command.get("sender")),
        message_id=command.get("message_id"),
    )
    emit("published", id=command["id"])


async def send(runtime: GrpcWorkerAgentRuntime, command: dict[str, Any]) -> None:
    request = json_format.ParseDict(command["request"], EchoRequest())
    recipient = AgentId(command["target_type"], command["target_key"])
    try:
        reply = await asyncio.wait_for(
            runtime.send_message(
                request, recipient, sender=parse_agent(command.get("sender"))
            ),
            command["timeout"],
        )
    except Exception as error:  # reported to the test, which decides
        emit(
            "rpc_error",
            id=command["id"],
            error_type=type(error).__name__,
            error=str(error),
        )
        return
    emit(
        "reply",
        id=command["id"],
        reply_type=reply.DESCRIPTOR.full_name,
        reply=json_format.MessageToDict(reply),
    )


async def run_command(runtime: GrpcWorkerAgentRuntime, command: dict[str, Any]) -> None:
    """Run one ``publish`` or ``send`` command; report any failure."""
    try:
        match command["cmd"]:
            case "publish":
                await publish(runtime, command)
            case "send":
                await send(runtime, command)
            case "release":
                Echoer.release.set()
                emit("released", id=command["id"])
            case other:
                raise ValueError(f"unknown command {other!r}")
    except Exception as error:  # reported to the test, which fails on it
        emit("command_error", id=command.get("id"), error=repr(error))


async def main() -> None:
    parser = argparse.ArgumentParser(description="AutoGen worker for interop tests")
    parser.add_argument("--host", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--format", choices=sorted(FORMATS), default="protobuf")
    parser.add_argument("--shared-echo-type")
    options = parser.parse_args()
    runtime = GrpcWorkerAgentRuntime(
        host_address=options.host,
        payload_serialization_format=FORMATS[options.format],
    )
    await runtime.start()
    types = await register_agents(runtime, options.name, options.shared_echo_type)
    emit("ready", types=types)
    running: set[asyncio.Task[None]] = set()
    async for command in stdin_commands():
        if command["cmd"] == "stop":
            break
        task = asyncio.create_task(run_command(runtime, command))
        running.add(task)
        task.add_done_callback(running.discard)
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    await runtime.stop()
    emit("stopped")


if __name__ == "__main__":
    asyncio.run(main())
