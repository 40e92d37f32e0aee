"""User code implementing the agents generated from the golden contracts.

The behaviour tests run these agents on a runtime; the typing tests check this
module with ``mypy --strict`` against the generated code.
"""

from __future__ import annotations

import nopackage_agents
import nopackage_pb2
from chat.v1 import agents_agents, messages_pb2
from google.protobuf import empty_pb2, struct_pb2, timestamp_pb2, wrappers_pb2
from kitchen.v1 import kitchen_sink_agents, kitchen_sink_pb2
from ledger import ledger_agents, ledger_pb2
from tools import search_pb2

from agentgen.runtime import MessageContext

Received = tuple[str, object, MessageContext]


class Assistant(agents_agents.AssistantBase):
    """Answers chat messages; fails on the text "fail"."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def respond(
        self, message: messages_pb2.ChatMessage, ctx: MessageContext
    ) -> messages_pb2.Reply:
        self.received.append(("respond", message, ctx))
        if message.text == "fail":
            raise ValueError("cannot answer 'fail'")
        return messages_pb2.Reply(text=f"re: {message.text}", confidence=0.5)

    async def summarize(
        self, message: messages_pb2.SummaryRequest, ctx: MessageContext
    ) -> messages_pb2.Summary:
        self.received.append(("summarize", message, ctx))
        return messages_pb2.Summary(text=f"{message.conversation_id} in brief")

    async def search(
        self, message: search_pb2.SearchQuery, ctx: MessageContext
    ) -> search_pb2.SearchResults:
        self.received.append(("search", message, ctx))
        hit = search_pb2.SearchResults.Hit(url=f"https://{message.site}/", score=1.0)
        return search_pb2.SearchResults(hits=[hit])

    async def import_(
        self, message: messages_pb2.UserJoined, ctx: MessageContext
    ) -> None:
        self.received.append(("import_", message, ctx))

    async def close_(self, message: empty_pb2.Empty, ctx: MessageContext) -> None:
        self.received.append(("close_", message, ctx))


class Sink(kitchen_sink_agents.SinkBase):
    """Handles nested messages and well-known types."""

    async def inspect(
        self, message: kitchen_sink_pb2.Outer.Middle.Inner, ctx: MessageContext
    ) -> struct_pb2.Struct:
        result = struct_pb2.Struct()
        result.update({"value": message.value, "children": len(message.children)})
        return result

    async def stamp(
        self, message: timestamp_pb2.Timestamp, ctx: MessageContext
    ) -> None:
        return None

    async def wrap(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.Int64Value:
        return wrappers_pb2.Int64Value(value=len(message.value))

    async def take(
        self, message: kitchen_sink_pb2.Outer, ctx: MessageContext
    ) -> kitchen_sink_pb2.Outer.Middle:
        return message.middle


class Echo(nopackage_agents.EchoBase):
    """Answers a Ping with the next sequence number."""

    async def ping(
        self, message: nopackage_pb2.Ping, ctx: MessageContext
    ) -> nopackage_pb2.Pong:
        return nopackage_pb2.Pong(sequence=message.sequence + 1)


class Bookkeeper(ledger_agents.BookkeeperBase):
    """Keeps a running balance (an agent from an editions file)."""

    def __init__(self) -> None:
        self.cents = 0

    async def record(
        self, message: ledger_pb2.Entry, ctx: MessageContext
    ) -> ledger_pb2.Balance:
        self.cents += message.cents
        return ledger_pb2.Balance(cents=self.cents)
