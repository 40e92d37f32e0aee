"""Experiment: what one grpc.aio stream hop costs, by socket engine and loop.

A sequential RPC through a host is four stream hops (caller → host → callee
→ host → caller). This measures the hops alone, with no agent logic and
nothing parsed: 150-byte messages, one in flight at a time.

* ``pingpong``: a client writes, a server echoes on the same stream (two
  hops per round trip, two processes);
* ``relay``: a caller writes to a relay, which writes each message to a
  callee's stream as soon as it reads it; the callee echoes it back the same
  way (four hops, three processes: the least a host can do).

Each runs with grpc's default socket engine (EventEngine) and with the POSIX
poller agentgen picks (``agentgen.runtime.grpc.core_engine``), on asyncio's
loop and, when installed, on uvloop.

``python -m bench.experiments.stream_hops [--count N]`` prints p50, p99 and
round trips per second for each combination (127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager

from agentgen.runtime.event_loop import uvloop_installed
from agentgen.runtime.grpc.core_engine import EXPERIMENTS_VARIABLE, POLLER_EXPERIMENTS

METHOD = "/bench.Hops/Open"
ROLE_HEADER = "role"
MESSAGE = b"x" * 150
WARMUP = 300
LINE_TIMEOUT = 30.0
ENGINES = {"EventEngine (grpc default)": "", "POSIX poller (agentgen)": None}


def _identity(data: bytes) -> bytes:
    return data


async def _serve(mode: str) -> None:
    import grpc

    streams: dict[str, grpc.aio.ServicerContext[bytes, bytes]] = {}

    async def open_stream(
        messages: AsyncIterator[bytes], context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> None:
        role = dict(context.invocation_metadata() or ()).get(ROLE_HEADER, "")
        streams[str(role)] = context
        if role == "callee":
            await context.write(b"ok")
        other = "callee" if role == "caller" else "caller"
        async for message in messages:
            await (context if mode == "pingpong" else streams[other]).write(message)

    server = grpc.aio.server()
    handler = grpc.stream_stream_rpc_method_handler(open_stream, _identity, _identity)
    service, method = METHOD.strip("/").split("/")
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(service, {method: handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop(0)


async def _client(role: str, port: str, count: int) -> None:
    import grpc

    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stream = channel.stream_stream(METHOD, _identity, _identity)(
            None, metadata=((ROLE_HEADER, role),)
        )
        if role == "callee":
            await stream.read()  # the relay's "ok": it knows this stream
            print("ready", flush=True)
            for _ in range(count + WARMUP):
                await stream.write(await stream.read())
            return
        times: list[float] = []
        for index in range(count + WARMUP):
            start = time.perf_counter()
            await stream.write(MESSAGE)
            await stream.read()
            if index >= WARMUP:
                times.append(time.perf_counter() - start)
        times.sort()
        p50 = times[len(times) // 2] * 1e6
        p99 = times[int(len(times) * 0.99)] * 1e6
        print(f"{p50:.0f} {p99:.0f} {len(times) / sum(times):.0f}", flush=True)


def _read_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], LINE_TIMEOUT)
    if not ready:
        raise TimeoutError(f"no line from {process.args!r} in {LINE_TIMEOUT} s")
    return process.stdout.readline().strip()


@contextmanager
def _child(environment: dict[str, str], *args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.experiments.stream_hops", *args],
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=LINE_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(mode: str, experiments: str | None, loop: str, count: int) -> str:
    """One combination: ``p50 p99 rate`` as the caller printed them."""
    environment = dict(os.environ)
    environment[EXPERIMENTS_VARIABLE] = (
        POLLER_EXPERIMENTS if experiments is None else experiments
    )
    loop_args = ["--loop", loop]
    with _child(environment, "--role", f"server-{mode}", *loop_args) as server:
        port = _read_line(server)
        client_args = ["--port", port, "--count", str(count), *loop_args]
        if mode == "pingpong":
            with _child(environment, "--role", "caller", *client_args) as caller:
                return _read_line(caller)
        with _child(environment, "--role", "callee", *client_args) as callee:
            if _read_line(callee) != "ready":
                raise RuntimeError("the callee did not attach")
            with _child(environment, "--role", "caller", *client_args) as caller:
                return _read_line(caller)


def main(argv: Sequence[str] | None = None) -> None:
    """Run one role (internal) or the whole table."""
    parser = argparse.ArgumentParser(prog="python -m bench.experiments.stream_hops")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--port", help=argparse.SUPPRESS)
    parser.add_argument("--loop", default="asyncio", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role is not None:
        from agentgen.runtime.event_loop import run

        if args.role.startswith("server-"):
            run(_serve(args.role.removeprefix("server-")), loop=args.loop)
        else:
            run(_client(args.role, args.port, args.count), loop=args.loop)
        return
    loops = ["asyncio", *(["uvloop"] if uvloop_installed() else [])]
    print("| hops | socket engine | loop | p50 µs | p99 µs | round trips/s |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for mode, hops in (("pingpong", 2), ("relay", 4)):
        for engine, experiments in ENGINES.items():
            for loop in loops:
                rounds = [
                    [
                        float(value)
                        for value in measure(
                            mode, experiments, loop, args.count
                        ).split()
                    ]
                    for _ in range(args.rounds)
                ]
                p50, p99, rate = (
                    statistics.median(column) for column in zip(*rounds, strict=True)
                )
                figures = f"{p50:.0f} | {p99:.0f} | {rate:,.0f}"
                print(f"| {hops} | {engine} | {loop} | {figures} |")


if __name__ == "__main__":
    main()
