"""Worker processes sharing one agent type on NATS, and a caller to drive them.

:class:`Workers` starts ``tests.nats.worker_process`` children (stopped by pid
at the end, whatever happens) and knows each one's worker id; :func:`ask_all`
calls the ``Counter`` of many keys at once, in bounded batches, and tells who
answered each key, or how its call failed.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass, field

from google.protobuf import wrappers_pb2

from agentgen.runtime import AgentgenError, AgentId
from agentgen.runtime.nats import NatsWorkerRuntime
from tests.support import REPO_ROOT
from tests.support.child_processes import child_environment, end_process

from .worker_process import COUNTER_TYPE

__all__ = ["Answer", "Workers", "ask_all", "until_serving"]

START_SECONDS = 30.0
BATCH = 100


@dataclass
class Worker:
    """One worker process: its name, worker id and process."""

    name: str
    worker_id: str
    process: asyncio.subprocess.Process


@dataclass
class Workers:
    """The worker processes of one test (see the module docstring)."""

    url: str
    namespace: str
    lease: float = 3.0
    running: list[Worker] = field(default_factory=list)

    async def start(self, name: str) -> Worker:
        """Start a worker; return once it has joined the routing state."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.nats.worker_process",
            self.url,
            self.namespace,
            name,
            "--lease",
            str(self.lease),
            stdout=asyncio.subprocess.PIPE,
            env=child_environment([str(REPO_ROOT)]),
            cwd=REPO_ROOT,
        )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), START_SECONDS)
        except BaseException:
            await end_process(process, 5.0)
            raise
        word, _, worker_id = line.decode().strip().partition(" ")
        assert word == "ready", f"worker {name} did not start: {line!r}"
        worker = Worker(name, worker_id, process)
        self.running.append(worker)
        return worker

    def names(self) -> dict[str, str]:
        """Worker id -> name."""
        return {worker.worker_id: worker.name for worker in self.running}

    def kill(self, worker: Worker) -> None:
        """SIGKILL ``worker`` by its pid: it hands nothing over."""
        worker.process.send_signal(signal.SIGKILL)

    async def stop(self, worker: Worker) -> int:
        """SIGTERM ``worker`` and wait for it to exit (a clean stop); its code."""
        worker.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(worker.process.wait(), START_SECONDS)

    async def close(self) -> None:
        """Stop every worker still running (by pid)."""
        for worker in reversed(self.running):
            await end_process(worker.process, 5.0)
        self.running.clear()


@dataclass(frozen=True)
class Answer:
    """Who answered a key and the count it reported, or how the call failed."""

    name: str | None
    count: int | None
    error: type[BaseException] | None = None


async def ask_all(
    caller: NatsWorkerRuntime, keys: list[str], timeout: float = 10.0
) -> dict[str, Answer]:
    """Call the ``Counter`` of every key (``BATCH`` calls at a time)."""

    async def ask(key: str) -> Answer:
        try:
            reply = await caller.send_message(
                wrappers_pb2.StringValue(value=key),
                AgentId(COUNTER_TYPE, key),
                timeout=timeout,
            )
        except AgentgenError as error:
            return Answer(None, None, type(error))
        name, _, count = reply.value.partition(":")
        return Answer(name, int(count))

    answers: dict[str, Answer] = {}
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        results = await asyncio.wait_for(
            asyncio.gather(*(ask(key) for key in batch)), timeout + 5.0
        )
        answers.update(zip(batch, results, strict=True))
    return answers


async def until_serving(
    caller: NatsWorkerRuntime, worker_ids: set[str], timeout: float = 20.0
) -> None:
    """Wait until ``caller`` sees exactly ``worker_ids`` serving ``Counter``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while set(caller.view.serving.get(COUNTER_TYPE, ())) != worker_ids:
        remaining = deadline - loop.time()
        assert remaining > 0, (
            f"serving {sorted(caller.view.serving.get(COUNTER_TYPE, ()))}, "
            f"expected {sorted(worker_ids)}"
        )
        await caller.view.wait_changed(remaining)
