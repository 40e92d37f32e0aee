"""A NATS worker in a process of its own, for the tests that share agent types.

Usage: ``python -m tests.nats.worker_process URL NAMESPACE NAME [--lease S]``
(from the repository root). It serves the agent type ``Counter`` (subscribed
to the topic type ``tally``): each ``StringValue`` request is answered with
``NAME:<count>``, where ``count`` is how many messages this agent (this key)
has handled so far, counting those it inherited with its state. Events on
``tally`` count too. Prints ``ready <worker id>`` once joined; SIGTERM stops
it cleanly (its agents' state is handed over), SIGKILL does not.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any, ClassVar

from google.protobuf import wrappers_pb2

from agentgen.runtime import Agent, Handler, MessageContext, run
from agentgen.runtime.nats import NatsWorkerRuntime

COUNTER_TYPE = "Counter"
TALLY_TOPIC = "tally"


class Counter(Agent):
    """Counts what it handles; tells who answered and the count so far."""

    AGENT_TYPE: ClassVar[str] = COUNTER_TYPE
    TOPIC_SUBSCRIPTIONS: ClassVar[tuple[str, ...]] = (TALLY_TOPIC,)
    HANDLERS: ClassVar[tuple[Handler, ...]] = (
        Handler("on_text", wrappers_pb2.StringValue, wrappers_pb2.StringValue),
    )
    worker_name: ClassVar[str] = "?"

    def __init__(self) -> None:
        self.count = 0

    async def on_text(
        self, message: wrappers_pb2.StringValue, ctx: MessageContext
    ) -> wrappers_pb2.StringValue:
        self.count += 1
        return wrappers_pb2.StringValue(value=f"{self.worker_name}:{self.count}")

    async def save_state(self) -> Mapping[str, Any]:
        return {"count": self.count}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.count = int(state["count"])


async def main(url: str, namespace: str, name: str, lease: float) -> None:
    Counter.worker_name = name
    async with NatsWorkerRuntime(
        url, namespace=namespace, lease=lease, handoff_timeout=5.0
    ) as runtime:
        await runtime.register_agent_class(Counter)
        print(f"ready {runtime.worker_id}", flush=True)
        await runtime.stop_when_signal()
    print("stopped", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("namespace")
    parser.add_argument("name")
    parser.add_argument("--lease", type=float, default=3.0)
    options = parser.parse_args()
    run(main(options.url, options.namespace, options.name, options.lease))
