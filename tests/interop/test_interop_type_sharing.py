"""``by-key`` with agentgen and AutoGen 0.7.5 workers serving one agent type.

Three worker processes serve ``shared_echo`` on a ``GrpcHost(type_sharing=
"by-key")``: two agentgen workers (``shared_echo_worker.py``) and one AutoGen
worker (``peers/autogen_worker.py --shared-echo-type``); each answers with its
process name. An agentgen caller sends an ``EchoRequest`` (JSON, which AutoGen
answers) to each of 1,000 keys, in bounded concurrent batches: each key is
answered by one process, the same one every time. Then one agentgen process
is killed (SIGKILL, by pid) while calls are in flight: every call ends, none
waits for its timeout, and afterwards only the killed process's keys have
moved.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import pytest

from agentgen.runtime import AgentgenError, AgentId, RpcTimeoutError
from agentgen.runtime.grpc import ConnectionLostError, GrpcHost, GrpcWorkerRuntime
from tests.support import REPO_ROOT
from tests.support.child_processes import child_environment, end_process
from tests.support.grpc_harness import bounded, running_worker, wait_until

from .autogen_peers import AutogenWorker
from .gencode import AgentgenGencode
from .peer_process import PeerLauncher

pytestmark = pytest.mark.timeout(180)

SHARED_TYPE = "shared_echo"
KEYS = [f"key-{n}" for n in range(1000)]
CONCURRENT_CALLS = 100
RPC_TIMEOUT = 20.0
"""The caller's and the host's: a call that waited for it has hung."""
AGENTGEN_NAMES = ("agentgen-1", "agentgen-2")
AUTOGEN_NAME = "autogen"
VICTIM = AGENTGEN_NAMES[0]
HELD_CALLS = 5
STARTUP_SECONDS = 30.0

Outcome = str | AgentgenError
"""The responder that answered a call, or the error it ended with."""


@asynccontextmanager
async def agentgen_echo_workers(
    address: str, gencode: AgentgenGencode, log_dir: Path
) -> AsyncIterator[dict[str, asyncio.subprocess.Process]]:
    """The agentgen echo processes, by name, once registered; ended by pid."""
    pb2_file = gencode.pb2.__file__
    assert pb2_file is not None
    gencode_dir = Path(pb2_file).parents[2]  # .../interop/v1/interop_pb2.py
    environment = child_environment([str(gencode_dir)])
    processes: dict[str, asyncio.subprocess.Process] = {}
    try:
        for name in AGENTGEN_NAMES:
            with (log_dir / f"{name}.stderr.log").open("wb") as stderr:
                processes[name] = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "tests.interop.shared_echo_worker",
                    address,
                    SHARED_TYPE,
                    name,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=stderr,
                    cwd=REPO_ROOT,
                    env=environment,
                )
        for name, process in processes.items():
            assert process.stdout is not None
            line = await bounded(process.stdout.readline(), STARTUP_SECONDS)
            assert line == b"ready\n", (name, line)
        yield processes
    finally:
        for process in processes.values():
            await end_process(process, 5.0)


async def call(
    caller: GrpcWorkerRuntime, pb2: ModuleType, key: str, text: str
) -> Outcome:
    """One echo call to ``shared_echo/key``: who answered, or the error."""
    try:
        reply = await caller.send_message(
            pb2.EchoRequest(text=text), AgentId(SHARED_TYPE, key)
        )
    except AgentgenError as error:
        return error
    assert reply.text == f"echo:{text}"
    return str(reply.responder)


async def call_every_key(
    caller: GrpcWorkerRuntime, pb2: ModuleType
) -> dict[str, Outcome]:
    """One call per key, at most ``CONCURRENT_CALLS`` at a time."""
    slots = asyncio.Semaphore(CONCURRENT_CALLS)

    async def bounded_call(key: str) -> Outcome:
        async with slots:
            return await call(caller, pb2, key, f"to {key}")

    outcomes = await asyncio.gather(*(bounded_call(key) for key in KEYS))
    return dict(zip(KEYS, outcomes, strict=True))


def answered(outcomes: dict[str, Outcome]) -> dict[str, str]:
    """The outcomes, all of which must be answers."""
    errors = {key: o for key, o in outcomes.items() if not isinstance(o, str)}
    assert not errors, f"{len(errors)} calls failed, e.g. {next(iter(errors.items()))}"
    return {key: o for key, o in outcomes.items() if isinstance(o, str)}


async def test_by_key_places_each_key_on_one_process_and_moves_only_a_dead_ones_keys(
    agentgen_gencode: AgentgenGencode, peers: PeerLauncher, tmp_path: Path
) -> None:
    pb2 = agentgen_gencode.pb2
    async with (
        GrpcHost("127.0.0.1:0", type_sharing="by-key", rpc_timeout=RPC_TIMEOUT) as host,
        agentgen_echo_workers(host.address, agentgen_gencode, tmp_path) as processes,
    ):
        await AutogenWorker.start(
            peers, host.address, AUTOGEN_NAME, shared_echo_type=SHARED_TYPE
        )
        assert len(host.agent_type_clients[SHARED_TYPE]) == 3
        async with running_worker(host.address, rpc_timeout=RPC_TIMEOUT) as caller:
            first = answered(await bounded(call_every_key(caller, pb2), 60))
            second = answered(await bounded(call_every_key(caller, pb2), 60))
            assert second == first  # each key stays on its process
            assert set(first.values()) == {*AGENTGEN_NAMES, AUTOGEN_NAME}

            # Calls held by the victim, then a whole pass; the victim is killed
            # once part of the pass has been answered.
            victim_keys = [key for key, name in first.items() if name == VICTIM]
            forwarded = host.counters.rpc_forwarded
            held = [
                asyncio.create_task(call(caller, pb2, key, f"hold:{key}"))
                for key in victim_keys[:HELD_CALLS]
            ]
            await wait_until(
                lambda: host.counters.rpc_forwarded >= forwarded + HELD_CALLS,
                "the held calls to be forwarded",
            )
            replies = host.counters.rpc_replies
            during = asyncio.create_task(call_every_key(caller, pb2))
            await wait_until(
                lambda: host.counters.rpc_replies >= replies + len(KEYS) // 4,
                "a quarter of the pass to be answered",
            )
            killed_at = time.monotonic()
            processes[VICTIM].kill()
            held_outcomes = await bounded(asyncio.gather(*held), RPC_TIMEOUT + 10)
            held_ended = time.monotonic() - killed_at
            outcomes = await bounded(during, RPC_TIMEOUT + 10)
            await wait_until(
                lambda: len(host.agent_type_clients[SHARED_TYPE]) == 2,
                "the host to drop the killed process",
            )
            third = answered(await bounded(call_every_key(caller, pb2), 60))

    # The held calls ended with the connection's loss, long before a timeout.
    assert all(isinstance(o, ConnectionLostError) for o in held_outcomes)
    assert held_ended < RPC_TIMEOUT / 2
    # During the kill: the survivors' keys were answered by their processes;
    # the victim's were answered (by it, or after its death by a survivor) or
    # failed, and none waited for its timeout.
    for key, outcome in outcomes.items():
        if first[key] != VICTIM:
            assert outcome == first[key], (key, outcome)
        else:
            assert not isinstance(outcome, RpcTimeoutError), (key, outcome)
    survivors = {key: name for key, name in first.items() if name != VICTIM}
    assert {key: third[key] for key in survivors} == survivors
    moved = Counter(third[key] for key in victim_keys)
    assert set(moved) == {AGENTGEN_NAMES[1], AUTOGEN_NAME}, moved
