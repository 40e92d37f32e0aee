"""The HelloAgent process (agent type ``HelloAgent``, subscribed to ``HelloTopic``).

It prints each ``NewMessageReceived`` and answers by publishing
``ConversationClosed``; on ``ConversationClosed`` it says goodbye and publishes
``Shutdown`` to the conversation, unless ``STAY_ALIVE_ON_GOODBYE=true``; on
``Shutdown`` it stops. Run it with the generated modules on ``PYTHONPATH`` and
the host's address in ``AGENT_HOST`` (``run.py`` does both).
"""

from __future__ import annotations

import os

import hello_pb2
from hello_agents import HelloAgentBase
from hello_common import HELLO_TOPIC, conversation_topic, run_worker, say

from agentgen.runtime import AgentRuntime, MessageContext, TopicId, run


def stay_alive_on_goodbye() -> bool:
    """Whether ``STAY_ALIVE_ON_GOODBYE=true`` asks to keep running after goodbye."""
    return os.environ.get("STAY_ALIVE_ON_GOODBYE", "").lower() == "true"


class HelloAgent(HelloAgentBase):
    """Greets users; one instance per conversation (topic source)."""

    async def on_new_message(
        self, message: hello_pb2.NewMessageReceived, ctx: MessageContext
    ) -> None:
        say(f"{self.id} received: {message.message}")
        user_id = ctx.topic_id.source if ctx.topic_id is not None else self.id.key
        # Like AutoGen's .NET HelloAgent: the answer goes to TopicId("HelloTopic"),
        # whose source is "default".
        await self.publish_message(
            hello_pb2.ConversationClosed(user_id=user_id, user_message="Goodbye"),
            TopicId(HELLO_TOPIC),
        )

    async def on_output(self, message: hello_pb2.Output, ctx: MessageContext) -> None:
        say(f"{self.id} output: {message.message}")

    async def on_conversation_closed(
        self, message: hello_pb2.ConversationClosed, ctx: MessageContext
    ) -> None:
        goodbye = f"*** {message.user_id} said {message.user_message} ***"
        say(f"{self.id}: {goodbye}")
        topic = conversation_topic(message.user_id)
        await self.publish_message(hello_pb2.Output(message=goodbye), topic)
        if stay_alive_on_goodbye():
            say(f"{self.id}: STAY_ALIVE_ON_GOODBYE=true, staying alive")
            return
        await self.publish_message(
            hello_pb2.Shutdown(message=f"{message.user_id} said goodbye"), topic
        )

    async def on_shutdown(
        self, message: hello_pb2.Shutdown, ctx: MessageContext
    ) -> None:
        say(f"{self.id} shutting down: {message.message}")
        self.runtime.request_stop()


async def register(runtime: AgentRuntime) -> None:
    """Register the HelloAgent type with its subscription to HelloTopic."""
    await HelloAgent.register(runtime)


if __name__ == "__main__":
    run(run_worker("HelloAgent", register))
