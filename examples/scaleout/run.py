"""Two workers share one agent type on NATS; one is killed; every request is answered.

1. generate ``protos/scaleout.proto`` into ``build/generated`` (if stale);
2. start a development ``nats-server`` with JetStream on a free loopback port
   (store in ``build/nats``), then two ``worker.py`` processes serving
   ``Counter``;
3. send 3 rounds of work to 100 keys: each key is answered by one worker,
   the same every round; in the middle of round 2, worker-b is killed
   (SIGKILL: no handover). Requests to its keys fail at once until its lease
   ends, and are sent again until worker-a answers them;
4. print who answered what, stop everything, exit 0.

Usage: ``python examples/scaleout/run.py [--timeout SECONDS] [--build-dir DIR]``
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import subprocess
import sys
import time
from collections import Counter as Tally
from pathlib import Path
from typing import Any

from agentgen.nats_server import RunningServer, start_server
from agentgen.runtime import (
    AgentId,
    NatsWorkerRuntime,
    RpcTimeoutError,
    UndeliverableError,
)

HERE = Path(__file__).resolve().parent
DEFAULT_BUILD_DIR = HERE / "build"
KEYS = [f"key-{n}" for n in range(100)]
RETRY_SECONDS = 0.2
"""Pause before sending again a request whose worker is gone (its lease runs)."""
CALL_SECONDS = 3.0
"""A request in flight when its worker died gets no reply: it times out."""


class ExampleFailed(Exception):
    """The run did not go as it should; the message says what happened."""


def generate(out: Path) -> None:
    """``agentgen generate`` the contract into ``out`` (a subprocess)."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "agentgen", "generate", str(HERE / "protos")]
    command += ["--out", str(out), "--allow-outside-project"]
    if subprocess.run(command, check=False).returncode != 0:
        raise ExampleFailed("agentgen generate failed")


async def start_worker(
    name: str, env: dict[str, str], deadline: float
) -> asyncio.subprocess.Process:
    """Start ``worker.py NAME``; return once it says it is ready."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "worker.py"),
        name,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(
            process.stdout.readline(), max(deadline - time.monotonic(), 0)
        )
    except TimeoutError:
        raise ExampleFailed(f"{name} did not start in time") from None
    if b"ready" not in line:
        raise ExampleFailed(f"{name} did not start: {line!r}")
    print(f"[run] {line.decode().strip()} (pid {process.pid})", flush=True)
    return process


async def ask(client: NatsWorkerRuntime, key: str, pb2: Any, deadline: float) -> Any:
    """Send work to ``key``'s counter until a worker answers it."""
    while True:
        try:
            return await client.send_message(
                pb2.Work(key=key), AgentId("Counter", key), timeout=CALL_SECONDS
            )
        except (UndeliverableError, RpcTimeoutError):  # its worker died
            if time.monotonic() > deadline:
                raise ExampleFailed(f"no worker answered {key} in time") from None
            await asyncio.sleep(RETRY_SECONDS)


async def conversation(
    server: RunningServer, env: dict[str, str], pb2: Any, deadline: float
) -> None:
    workers = {name: await start_worker(name, env, deadline) for name in ("a", "b")}
    try:
        async with NatsWorkerRuntime(server.url, namespace="scaleout") as client:
            await client.wait_for_agent_types("Counter")
            while len(client.view.serving["Counter"]) < 2:
                await client.view.wait_changed(max(deadline - time.monotonic(), 0))
            owners: dict[str, str] = {}
            for round_number in (1, 2, 3):
                for index, key in enumerate(KEYS):
                    if round_number == 2 and index == len(KEYS) // 2:
                        workers["b"].kill()
                        print("[run] worker b killed (SIGKILL)", flush=True)
                    done = await ask(client, key, pb2, deadline)
                    if round_number == 1:
                        owners[key] = done.worker
                    elif done.worker != owners[key] and owners[key] != "b":
                        raise ExampleFailed(f"{key} moved from {owners[key]}")
                print(
                    f"[run] round {round_number}: all {len(KEYS)} answered", flush=True
                )
            moved = sum(owner == "b" for owner in owners.values())
            print(f"[run] keys per worker at first: {dict(Tally(owners.values()))}")
            print(f"[run] {moved} keys moved from b to a; every request was answered")
    finally:
        for process in workers.values():
            if process.returncode is None:
                process.terminate()
            await process.wait()


async def main_async(build_dir: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    generated = build_dir / "generated"
    generate(generated)
    sys.path.insert(0, str(generated))
    pb2 = importlib.import_module("scaleout_pb2")
    server = start_server(build_dir / "nats")
    print(f"[run] nats-server on {server.url}", flush=True)
    env = {
        **os.environ,
        "AGENTGEN_NATS_URL": server.url,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(generated), os.environ.get("PYTHONPATH")])
        ),
        "PYTHONUNBUFFERED": "1",
    }
    try:
        await conversation(server, env, pb2, deadline)
    finally:
        server.stop()


def main() -> int:
    """Parse arguments, run the example; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR)
    args = parser.parse_args()
    try:
        asyncio.run(main_async(args.build_dir.resolve(), args.timeout))
    except ExampleFailed as error:
        print(f"[run] error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
