"""The NATS floor: raw nats-py request/reply and publish/subscribe, no runtime.

No agents and no envelopes: 100-byte payloads (``--size``) published on a
subject, or sent as requests that a responder answers with the same bytes.
This is what any NATS transport of agentgen costs at least.

Roles (protocol: ``childio``, like ``relay_worker.py``; agentgen's venv with
its ``nats`` and ``nats-server`` extras):

* ``host``: ``nats_host.py``'s server (a ``nats-server`` on a free loopback
  port; ``ready`` with its URL as the ``address``; its CPU in this child's);
* ``sub``, ``pub``, ``echo``, ``caller``: the worker roles of
  ``childio.parse_worker_args``, on the server at ``--address``;
* ``measure``: runs alone: starts a ``host``, an ``echo`` and a ``caller``,
  then a ``sub`` and a ``pub`` (each its own process, driven like the
  benchmark runner does) and prints the figures as one JSON object.

Usage: ``nats_floor.py measure [--count N] [--size B]`` or
``nats_floor.py ROLE --address HOST:PORT ...``; ``--help`` for options.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import nats
from childio import (
    BENCH_TOPIC,
    ECHO_TYPE,
    Control,
    Receiver,
    WorkerArgs,
    emit,
    make_blob,
    run_caller,
    run_child,
    run_publisher,
    run_receiver,
    serve_until_stop,
    worker_args,
    worker_parser,
)
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats_host import run_host

ROLES = ("host", "sub", "pub", "echo", "caller", "measure")
REQUEST_TIMEOUT = 30.0
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
PUBLISH_SECONDS_PER_MESSAGE = 0.001
"""Generous per-message bound on a measured phase (plus 30 s)."""


def parse_args(argv: list[str] | None = None) -> tuple[WorkerArgs, int]:
    """The command line (``--help`` describes it): the worker options of
    ``childio`` and the concurrent callers of ``measure``."""
    parser = worker_parser(
        __doc__.splitlines()[0] if __doc__ else "", ROLES, address_required=False
    )
    parser.add_argument(
        "--callers",
        type=int,
        default=16,
        help="measure: concurrent callers of the second request/reply phase",
    )
    parsed = parser.parse_args(argv)
    if parsed.role not in ("host", "measure") and not parsed.address:
        parser.error(f"{parsed.role} needs --address")
    return worker_args(parsed), parsed.callers


def server_url(address: str) -> str:
    """``nats://host:port`` from ``host:port`` (a URL is kept as it is)."""
    return address if "://" in address else f"nats://{address}"


async def play(control: Control, args: WorkerArgs, client: Client) -> None:
    """Play a worker role on ``client`` until the runner says ``stop``."""
    blob = make_blob(args.size, args.random)
    if args.role == "sub":
        receiver = Receiver(args.count)

        async def count(msg: Msg) -> None:
            receiver.on_message()

        await client.subscribe(BENCH_TOPIC, cb=count)
        await client.flush()  # the server has the subscription before `ready`
        await run_receiver(control, receiver)
    elif args.role == "pub":

        async def publish(seq: int) -> None:
            await client.publish(BENCH_TOPIC, blob)

        await run_publisher(control, publish, args.count)
        await client.flush()
        await serve_until_stop(control)
    elif args.role == "echo":

        async def answer(msg: Msg) -> None:
            await client.publish(msg.reply, msg.data)

        await client.subscribe(ECHO_TYPE, cb=answer)
        await client.flush()
        emit("ready")
        await serve_until_stop(control)
    else:

        async def call(seq: int) -> None:
            await client.request(ECHO_TYPE, blob, timeout=REQUEST_TIMEOUT)

        await run_caller(control, call, args.warmup)


async def run_worker(control: Control, args: WorkerArgs) -> None:
    """Connect, play the role, close."""
    client = await nats.connect(
        server_url(args.address), connect_timeout=10, allow_reconnect=False
    )
    try:
        await play(control, args, client)
    finally:
        await client.close()


class Driven:
    """One child of ``measure``: JSON events in, commands out, bounded waits."""

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process

    @classmethod
    async def start(cls, name: str, *argv: str) -> Driven:
        """Run this script with ``argv`` (stderr passes through)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            os.path.abspath(__file__),
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(name, process)

    async def send(self, cmd: str, **fields: Any) -> None:
        """Write one command line."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **fields}) + "\n").encode())
        await self.process.stdin.drain()

    async def expect(self, event: str, timeout: float) -> dict[str, Any]:
        """The next event other than ``mark``, which must be ``event``."""
        assert self.process.stdout is not None
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            if not line:
                raise RuntimeError(f"{self.name} exited before {event!r}")
            found: dict[str, Any] = json.loads(line)
            if found.get("event") == event:
                return found
            if found.get("event") == "error":
                raise RuntimeError(f"{self.name}: {found.get('message')}")

    async def stop(self) -> dict[str, Any]:
        """``stop``, its result, and the process's end (killed if it lingers)."""
        try:
            await self.send("stop")
            return await self.expect("result", STOP_TIMEOUT)
        finally:
            await self.end()

    async def end(self) -> None:
        """Close stdin; kill the process by pid if it has not exited in time."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def _phase_timeout(count: int) -> float:
    return 30.0 + count * PUBLISH_SECONDS_PER_MESSAGE


async def _request_reply(
    address: str, args: WorkerArgs, count: int, callers: int
) -> dict[str, Any]:
    worker = ["--address", address, "--size", str(args.size)]
    echo = await Driven.start("echo", "echo", *worker)
    caller = None
    try:
        await echo.expect("ready", READY_TIMEOUT)
        # The caller warms up as soon as it runs: only once the echo listens.
        caller = await Driven.start(
            "caller", "caller", *worker, "--warmup", str(max(count // 10, 1))
        )
        await caller.expect("ready", READY_TIMEOUT)
        figures: dict[str, Any] = {}
        for phase, loops in (("sequential", 1), ("concurrent", callers)):
            await caller.send("go", phase=phase, count=count, callers=loops)
            done = await caller.expect("done", _phase_timeout(count))
            figures[phase] = {
                "callers": loops,
                "calls_per_s": round(done["count"] / done["wall"]),
                "p50_us": round(done["p50_us"]),
                "p99_us": round(done["p99_us"]),
            }
        await caller.stop()
        await echo.stop()
        return figures
    finally:
        if caller is not None:
            await caller.end()
        await echo.end()


async def _publish_subscribe(
    address: str, args: WorkerArgs, count: int
) -> dict[str, Any]:
    worker = ["--address", address, "--size", str(args.size), "--count", str(count)]
    sub = await Driven.start("sub", "sub", *worker)
    pub = None
    try:
        await sub.expect("ready", READY_TIMEOUT)
        pub = await Driven.start("pub", "pub", *worker)
        await pub.expect("ready", READY_TIMEOUT)
        await pub.send("go")
        await pub.expect("done", _phase_timeout(count))
        received = await sub.expect("done", _phase_timeout(count))
        await pub.stop()
        await sub.stop()
        return {
            "count": count,
            "msgs_per_s": round(count / (received["last"] - received["first"])),
        }
    finally:
        if pub is not None:
            await pub.end()
        await sub.end()


async def measure(args: WorkerArgs, callers: int) -> None:
    """Run every role in its own process once; print the figures as JSON."""
    count = args.count or 5000
    host = await Driven.start("host", "host")
    try:
        ready = await host.expect("ready", READY_TIMEOUT)
        address = str(ready["address"])
        figures = {
            "server": ready["server"],
            "payload_bytes": args.size,
            "request_reply": await _request_reply(address, args, count, callers),
            "publish_subscribe": await _publish_subscribe(address, args, 10 * count),
        }
        figures["server_cpu_s"] = round((await host.stop())["server_cpu"], 3)
    finally:
        await host.end()
    print(json.dumps(figures, indent=2), flush=True)


def main() -> None:
    """Parse the command line and run the role."""
    args, callers = parse_args()
    if args.role == "measure":
        asyncio.run(measure(args, callers))
    elif args.role == "host":
        run_child(run_host)
    else:

        async def worker(control: Control) -> None:
            await run_worker(control, args)

        run_child(worker)


if __name__ == "__main__":
    main()
