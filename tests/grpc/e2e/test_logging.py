"""Logging costs nothing per message when off, and never formats payloads."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    JSON_CONTENT_TYPE,
    Agent,
    AgentId,
    MessageContext,
    TopicId,
    TypeSubscription,
)
from agentgen.runtime.grpc import GrpcHost
from tests.support.agents import Arrivals, Collector
from tests.support.grpc_harness import running_worker

pytestmark = pytest.mark.timeout(60)

TOKEN = "PAYLOAD-TOKEN-7f3a"


class Tattletale:
    """A message that counts how often something turned it into text."""

    stringified: ClassVar[int] = 0

    def __init__(self, text: str) -> None:
        self.text = text

    def _told(self) -> str:
        Tattletale.stringified += 1
        return "Tattletale(...)"

    def __str__(self) -> str:
        return self._told()

    def __repr__(self) -> str:
        return self._told()

    def __format__(self, spec: str) -> str:
        return self._told()


class TattletaleSerializer:
    type_name = "Tattletale"
    content_type = JSON_CONTENT_TYPE

    def serialize(self, message: Tattletale) -> bytes:
        return json.dumps({"text": message.text}).encode()

    def deserialize(self, data: bytes) -> Tattletale:
        return Tattletale(json.loads(data)["text"])


class Listener(Agent):
    """Takes Tattletales, published or as RPCs (answered with one)."""

    AGENT_TYPE: ClassVar[str] = "listener"

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals

    async def on_message(self, message: Any, ctx: MessageContext) -> Any:
        assert isinstance(message, Tattletale)
        self.arrivals.add(self.id.key, "tattletale", ctx)
        return Tattletale("reply") if ctx.is_rpc else None


@pytest.fixture
def agentgen_records() -> Iterator[list[logging.LogRecord]]:
    """Every log record agentgen's loggers create while the test runs."""
    made: list[logging.LogRecord] = []
    original = logging.getLogRecordFactory()

    def recording(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = original(*args, **kwargs)
        if record.name.startswith("agentgen"):
            made.append(record)
        return record

    logging.setLogRecordFactory(recording)
    try:
        yield made
    finally:
        logging.setLogRecordFactory(original)


@pytest.fixture
def agentgen_level() -> Iterator[logging.Logger]:
    logger = logging.getLogger("agentgen")
    level = logger.level
    try:
        yield logger
    finally:
        logger.setLevel(level)


async def _traffic(host: GrpcHost, records: list[logging.LogRecord]) -> None:
    """64 KiB random-byte events and RPCs; ``records`` is cleared after set-up."""
    arrivals = Arrivals()
    async with (
        running_worker(host.address) as callee,
        running_worker(host.address) as caller,
    ):
        await callee.register_agent_class(Collector, lambda: Collector(arrivals))
        await callee.register_factory("listener", lambda: Listener(arrivals))
        await callee.add_subscription(TypeSubscription("tales", "listener"))
        for worker in (callee, caller):
            worker.add_message_serializer(TattletaleSerializer())
        records.clear()
        Tattletale.stringified = 0
        blob = os.urandom(32 * 1024).hex()  # 64 KiB of text that escapes badly
        for number in range(100):
            await caller.publish_message(
                wrappers_pb2.StringValue(value=f"{TOKEN}{number}{blob}"),
                TopicId("news", "k"),
            )
        for number in range(20):
            await caller.send_message(
                wrappers_pb2.StringValue(value=f"{TOKEN}{number}"),
                AgentId("collector", "k"),
            )
        for number in range(20):
            tale = Tattletale(f"{TOKEN}{number}{blob}")
            await caller.publish_message(tale, TopicId("tales", "k"))
            reply = await caller.send_message(tale, AgentId("listener", "k"))
            assert isinstance(reply, Tattletale)
        await arrivals.wait_for(160)
        measured = list(records)
    records[:] = measured


async def test_no_log_record_is_made_per_message_when_logging_is_off(
    agentgen_records: list[logging.LogRecord], agentgen_level: logging.Logger
) -> None:
    agentgen_level.setLevel(logging.WARNING)
    async with GrpcHost("127.0.0.1:0") as host:
        await _traffic(host, agentgen_records)
    assert agentgen_records == []
    assert Tattletale.stringified == 0


async def test_debug_logging_never_formats_a_payload(
    agentgen_records: list[logging.LogRecord], agentgen_level: logging.Logger
) -> None:
    agentgen_level.setLevel(logging.DEBUG)
    async with GrpcHost("127.0.0.1:0") as host:
        await _traffic(host, agentgen_records)
    for record in agentgen_records:
        assert TOKEN not in record.getMessage(), record.getMessage()[:200]
    assert Tattletale.stringified == 0
