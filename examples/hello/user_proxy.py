"""The user-proxy process: says hello, prints what comes back, stops on ``Shutdown``.

It connects through ``AGENT_HOST``, registers ``UserProxy`` (subscribed to
``HelloTopic``), publishes ``NewMessageReceived("Hello from Python!")`` and an
``Output`` to the user's conversation on ``HelloTopic``, and shuts down
gracefully when ``Shutdown`` arrives.
"""

from __future__ import annotations

import hello_pb2
from hello_agents import UserProxyBase
from hello_common import conversation_topic, run_worker, say

from agentgen.runtime import AgentId, AgentRuntime, MessageContext, run

USER_ID = "python"
"""This user's id: the source of its conversation's topic."""


class UserProxy(UserProxyBase):
    """Shows the user what the agents say."""

    async def on_output(self, message: hello_pb2.Output, ctx: MessageContext) -> None:
        say(f"{self.id} output: {message.message}")

    async def on_conversation_closed(
        self, message: hello_pb2.ConversationClosed, ctx: MessageContext
    ) -> None:
        say(
            f"{self.id}: conversation with {message.user_id} closed: "
            f"{message.user_message}"
        )

    async def on_shutdown(
        self, message: hello_pb2.Shutdown, ctx: MessageContext
    ) -> None:
        say(f"{self.id} shutting down: {message.message}")
        self.runtime.request_stop()


async def say_hello(runtime: AgentRuntime) -> None:
    """Register the proxy, then start the conversation."""
    await UserProxy.register(runtime)
    # Sent as this user's proxy, so the proxy does not receive its own messages.
    me = AgentId(UserProxy.AGENT_TYPE, USER_ID)
    topic = conversation_topic(USER_ID)
    await runtime.publish_message(
        hello_pb2.NewMessageReceived(message="Hello from Python!"), topic, sender=me
    )
    await runtime.publish_message(
        hello_pb2.Output(message="^v^v^v---Wild Hello from Python!---^v^v^v"),
        topic,
        sender=me,
    )


if __name__ == "__main__":
    run(run_worker("UserProxy", say_hello))
