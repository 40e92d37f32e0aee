"""What both hello processes share: the topic, and running one worker until stopped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from agentgen.runtime import AgentRuntime, GrpcWorkerRuntime, TopicId

HELLO_TOPIC = "HelloTopic"
"""The topic type every hello message is published to (as in AutoGen's sample)."""


def conversation_topic(user_id: str) -> TopicId:
    """The topic of one user's conversation: its source is the user's id."""
    return TopicId(HELLO_TOPIC, user_id)


def say(text: str) -> None:
    """Print a line right away (the runner streams each process's output)."""
    print(text, flush=True)


async def run_worker(
    name: str, setup: Callable[[AgentRuntime], Awaitable[None]]
) -> None:
    """Connect to the host in ``AGENT_HOST``, run ``setup``, then serve until an
    agent calls ``request_stop()`` (on ``Shutdown``) or SIGINT/SIGTERM arrives."""
    runtime = GrpcWorkerRuntime()
    await runtime.start()
    try:
        await setup(runtime)
        say(f"{name} ready")
        await runtime.stop_when_signal()
    finally:
        await runtime.stop()
    say(f"{name} stopped")
