"""Several worker processes sharing one agent type on NATS.

Each key is answered by exactly one live worker, the one rendezvous hashing
picks, the same one every time; a killed worker's keys move once its lease
ends (and no call hangs meanwhile); a worker stopped cleanly hands its
agents' state to the new owners of their keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from agentgen.runtime import UndeliverableError
from agentgen.runtime.nats import NatsWorkerRuntime
from tests.support.grpc_harness import wait_until
from tests.support.nats_servers import NatsServer

from .worker_process import COUNTER_TYPE, Counter
from .workers import Answer, Workers, ask_all, until_serving

pytestmark = pytest.mark.timeout(180)

KEYS = [f"key-{n}" for n in range(1000)]
LEASE = 3.0


@pytest.fixture
async def workers(
    nats_session_server: NatsServer, nats_namespace: str
) -> AsyncIterator[Workers]:
    started = Workers(nats_session_server.url, nats_namespace, LEASE)
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
async def caller(
    nats_session_server: NatsServer, nats_namespace: str
) -> AsyncIterator[NatsWorkerRuntime]:
    async with NatsWorkerRuntime(
        nats_session_server.url, namespace=nats_namespace, lease=LEASE
    ) as runtime:
        yield runtime


def owners(caller: NatsWorkerRuntime, workers: Workers) -> dict[str, str]:
    """The worker each key belongs to, by name, as the caller computes it."""
    names = workers.names()
    owner = caller.view.owner
    return {key: names[owner(COUNTER_TYPE, key) or "?"] for key in KEYS}


def answered_by(answers: dict[str, Answer]) -> dict[str, str | None]:
    return {key: answer.name for key, answer in answers.items()}


@pytest.mark.parametrize("count", [2, 3])
async def test_each_key_is_answered_by_one_worker_the_same_every_time(
    workers: Workers, caller: NatsWorkerRuntime, count: int
) -> None:
    started = [await workers.start(f"w{n}") for n in range(count)]
    await until_serving(caller, {worker.worker_id for worker in started})
    first = await ask_all(caller, KEYS)
    second = await ask_all(caller, KEYS)
    expected = owners(caller, workers)
    assert answered_by(first) == expected
    assert answered_by(second) == expected
    assert set(expected.values()) == {worker.name for worker in started}
    # One agent per key, in one process: its count goes on from the first pass.
    assert {answer.count for answer in first.values()} == {1}
    assert {answer.count for answer in second.values()} == {2}


async def test_a_killed_workers_keys_move_once_its_lease_ends(
    workers: Workers, caller: NatsWorkerRuntime
) -> None:
    started = [await workers.start(f"w{n}") for n in range(3)]
    await until_serving(caller, {worker.worker_id for worker in started})
    before = answered_by(await ask_all(caller, KEYS))
    victim = started[1]
    workers.kill(victim)
    await asyncio.wait_for(victim.process.wait(), 10)
    # Until its lease ends the dead worker still owns its keys: their calls
    # fail at once (no responder), the others are answered. Nothing hangs.
    during = await ask_all(caller, KEYS, timeout=5.0)
    for key, answer in during.items():
        if before[key] == victim.name:
            assert answer.error in (UndeliverableError, None), (key, answer)
        else:
            assert answer.name == before[key], (key, answer)
    survivors = {worker.worker_id for worker in started if worker is not victim}
    await until_serving(caller, survivors, timeout=LEASE + 10)
    after = await ask_all(caller, KEYS)
    assert all(answer.error is None for answer in after.values())
    for key, answer in after.items():
        if before[key] == victim.name:
            assert answer.name != victim.name
        else:
            assert answer.name == before[key]  # only the dead worker's keys moved
    assert answered_by(after) == owners(caller, workers)


async def test_a_cleanly_stopped_worker_hands_its_agents_state_over(
    workers: Workers, caller: NatsWorkerRuntime
) -> None:
    keys = KEYS[:300]
    started = [await workers.start(f"w{n}") for n in range(2)]
    await until_serving(caller, {worker.worker_id for worker in started})
    await ask_all(caller, keys)
    before = await ask_all(caller, keys)
    assert {answer.count for answer in before.values()} == {2}
    leaving = started[0]
    assert await workers.stop(leaving) == 0
    await until_serving(caller, {started[1].worker_id})
    after = await ask_all(caller, keys)
    moved = [key for key in keys if before[key].name == leaving.name]
    assert moved, "the leaving worker served no key"
    for key in keys:
        assert after[key] == Answer(started[1].name, 3), key  # counts went on


async def test_keys_moving_to_a_joining_worker_take_their_state_along(
    nats_session_server: NatsServer,
    nats_namespace: str,
    caller: NatsWorkerRuntime,
) -> None:
    keys = KEYS[:200]
    url = nats_session_server.url

    def counter(name: str) -> type[Counter]:
        return type(f"Counter_{name}", (Counter,), {"worker_name": name})

    async with NatsWorkerRuntime(url, namespace=nats_namespace, lease=LEASE) as a:
        await a.register_agent_class(counter("a"))
        await until_serving(caller, {a.worker_id})
        assert {answer.count for answer in (await ask_all(caller, keys)).values()} == {
            1
        }
        async with NatsWorkerRuntime(url, namespace=nats_namespace, lease=LEASE) as b:
            await b.register_agent_class(counter("b"))
            await until_serving(caller, {a.worker_id, b.worker_id})
            moved = [
                k for k in keys if caller.view.owner(COUNTER_TYPE, k) == b.worker_id
            ]
            assert moved
            # a hands the agents whose keys b owns now over (idle ones at once).
            await wait_until(
                lambda: a.counters.states_saved == len(moved), "a's handover"
            )
            after = await ask_all(caller, keys)
            for key in keys:
                owner = "b" if key in moved else "a"
                assert after[key] == Answer(owner, 2), key
            assert b.counters.states_restored == len(moved)
