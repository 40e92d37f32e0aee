"""A worker process serving the ``Counter`` agent type on NATS.

Usage: ``python worker.py NAME`` with the generated modules on ``PYTHONPATH``
and ``AGENTGEN_NATS_URL`` pointing at the server (``run.py`` does both).
Every worker started this way shares the type: each key's counter lives in
exactly one of them. SIGTERM stops it cleanly, handing its counters over.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import scaleout_agents
import scaleout_pb2

from agentgen.runtime import MessageContext, NatsWorkerRuntime, run

NAMESPACE = "scaleout"


class Counter(scaleout_agents.CounterBase):
    """Counts the work of one key."""

    worker_name = "?"

    def __init__(self) -> None:
        self.handled = 0

    async def handle(
        self, message: scaleout_pb2.Work, ctx: MessageContext
    ) -> scaleout_pb2.Done:
        self.handled += 1
        return scaleout_pb2.Done(worker=self.worker_name, handled=self.handled)

    async def save_state(self) -> Mapping[str, Any]:
        return {"handled": self.handled}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.handled = int(state["handled"])


async def main(name: str) -> None:
    Counter.worker_name = name
    async with NatsWorkerRuntime(namespace=NAMESPACE, lease=3) as runtime:
        await Counter.register(runtime)
        print(f"{name} ready as worker {runtime.worker_id}", flush=True)
        await runtime.stop_when_signal()
    print(f"{name} stopped", flush=True)


if __name__ == "__main__":
    run(main(sys.argv[1]))
