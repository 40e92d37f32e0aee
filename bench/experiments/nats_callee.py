"""Experiment: the CPU a NATS RPC callee spends per request, agentgen vs raw nats-py.

One nats-server, one callee process, and this process as a raw nats-py caller
making sequential requests (one in flight, as in the benchmark's scenario 4).
The callee is, in turn:

* ``raw``: a nats-py subscription answering each request with its bytes
  (the NATS floor's echo);
* ``codec``: the same, but it also does agentgen's wire work on each request
  (``FrameReader.read``, ``PayloadCodec.decode`` of the Ping, the reply future
  and ``reply_frame``), without the runtime;
* ``agentgen``: a ``NatsWorkerRuntime`` with the benchmark's generated Echo
  agent (the caller sends it agentgen's request frames on its subject).

For each it prints calls/s and the callee's CPU µs per request (from
``/proc/<pid>/stat``), plus the same wire work timed in a tight loop.

``python -m bench.experiments.nats_callee [--count N] [--runs R]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import nats

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import PROTOBUF_CONTENT_TYPE, AgentId
from agentgen.runtime.nats.counters import NatsCounters
from agentgen.runtime.serialization import SerializerRegistry
from agentgen.runtime.wire.codec import PayloadCodec
from agentgen.runtime.wire.frames import FrameReader, request_frame
from agentgen.runtime.wire.replies import reply_frame
from tests.support.nats_servers import start_server

from ..gencode import compile_for_agentgen
from ..systems import CHILDREN_DIR, child_environment

MODES = ("raw", "codec", "agentgen")
RAW_SUBJECT = "raw"
ECHO = AgentId("Echo", "default")
WARMUP = 500
REQUEST_TIMEOUT = 5.0


class Wire:
    """agentgen's wire work for one request, without a runtime."""

    def __init__(self) -> None:
        from benchproto.ping_pb2 import Ping  # type: ignore[import-not-found,unused-ignore]

        self.codec = PayloadCodec(SerializerRegistry(), 1 << 20)
        self.reader = FrameReader(NatsCounters(), logging.getLogger(__name__), "{}")
        name, data = self.codec.encode(
            Ping(seq=1, blob=b"x" * 100), PROTOBUF_CONTENT_TYPE
        )
        self.request = request_frame("r", ECHO, None, name, PROTOBUF_CONTENT_TYPE, data)

    def answer(self, frame: bytes, loop: asyncio.AbstractEventLoop) -> bytes:
        """The reply frame of an Echo to ``frame``."""
        read = self.reader.read(frame, "caller")
        assert read is not None
        request = read[1].request
        payload = request.payload
        value = self.codec.decode(
            payload.data_type, payload.data_content_type, payload.data
        )
        outcome: asyncio.Future[Any] = loop.create_future()
        outcome.set_result(value)
        return reply_frame(
            self.codec, request.request_id, PROTOBUF_CONTENT_TYPE, outcome
        )


async def serve(mode: str, url: str, namespace: str) -> None:
    """The callee: print the subject to call, then answer until killed."""
    if mode == "agentgen":
        from agentgen_agents import Echo  # type: ignore[import-not-found,unused-ignore]

        from agentgen.runtime.nats import NatsWorkerRuntime

        async with NatsWorkerRuntime(url, namespace=namespace) as runtime:
            await Echo.register(runtime)
            print(runtime.subjects.requests(runtime.worker_id), flush=True)
            await asyncio.Event().wait()
    client = await nats.connect(url)
    loop = asyncio.get_running_loop()
    wire = Wire() if mode == "codec" else None

    async def answer(msg: Any) -> None:
        data = msg.data if wire is None else wire.answer(msg.data, loop)
        await client.publish(msg.reply, data)

    await client.subscribe(RAW_SUBJECT, cb=answer)
    await client.flush()
    print(RAW_SUBJECT, flush=True)
    await asyncio.Event().wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid``."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(mode: str, url: str, count: int, env: dict[str, str]) -> None:
    """Start a callee in ``mode``, call it ``count`` times, print the figures."""
    command = [sys.executable, "-m", "bench.experiments.nats_callee", "--serve"]
    callee = subprocess.Popen(
        [*command, mode, url, f"x{os.getpid()}{mode}{time.monotonic_ns()}"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert callee.stdout is not None
        subject = callee.stdout.readline().strip()
        client = await nats.connect(url)
        frame = Wire().request if mode != "raw" else b"x" * 100
        for _ in range(WARMUP):
            await client.request(subject, frame, timeout=REQUEST_TIMEOUT)
        cpu, started = cpu_seconds(callee.pid), time.monotonic()
        for _ in range(count):
            reply = await client.request(subject, frame, timeout=REQUEST_TIMEOUT)
        wall = time.monotonic() - started
        cpu = cpu_seconds(callee.pid) - cpu
        if mode != "raw":
            assert pb.Message.FromString(reply.data).WhichOneof("message")
        await client.close()
        figures = {
            "callee": mode,
            "calls_per_s": round(count / wall),
            "callee_cpu_us": round(cpu / count * 1e6),
        }
        print(json.dumps(figures), flush=True)
    finally:
        callee.terminate()
        callee.wait(30)


def tight_loop() -> float:
    """µs of :meth:`Wire.answer` per request in a tight loop (caches warm)."""
    wire = Wire()
    loop = asyncio.new_event_loop()
    try:
        number = 20_000
        best = min(
            timeit.repeat(
                lambda: wire.answer(wire.request, loop), number=number, repeat=5
            )
        )
    finally:
        loop.close()
    return best / number * 1e6


def main() -> None:
    """Parse the command line; measure, or serve as a callee."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", nargs=3, metavar=("MODE", "URL", "NAMESPACE"))
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(*args.serve))
        return
    with tempfile.TemporaryDirectory(prefix="nats-callee-") as temporary:
        gencode = compile_for_agentgen(Path(temporary) / "gencode")
        env = child_environment(gencode)
        env["PYTHONPATH"] += os.pathsep.join(("", str(CHILDREN_DIR), os.getcwd()))
        sys.path[:0] = [str(gencode), str(CHILDREN_DIR)]
        print(json.dumps({"wire_tight_loop_us": round(tight_loop(), 2)}), flush=True)
        server = start_server(Path(temporary))
        try:
            for _ in range(args.runs):
                for mode in MODES:
                    asyncio.run(measure(mode, server.url, args.count, env))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
