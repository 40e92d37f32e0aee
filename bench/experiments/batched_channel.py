"""Experiment: how much would batching frames per gRPC message save?

On AutoGen's wire protocol each ``agents.Message`` is one gRPC stream
message, and grpc.aio costs about 100 µs of CPU per message and process
(see ``bench/PROFILE.md``). This script measures the alternative a future
agentgen-to-agentgen channel could use: several serialized ``agents.Message``
frames, length-prefixed, in one gRPC message. A writer sends whatever is
queued when the stream is ready (at most ``--max-batch`` frames), so nothing
waits for a batch to fill.

``python -m bench.experiments.batched_channel [--count N] [--max-batch B]``
starts a relay, a subscriber and a publisher (three processes, 127.0.0.1)
and prints throughput at the subscriber and CPU µs per message of each.
``--max-batch 1`` is the one-frame-per-message baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import grpc
from google.protobuf.internal.decoder import _DecodeVarint  # type: ignore[attr-defined]
from google.protobuf.internal.encoder import _VarintBytes  # type: ignore[attr-defined]

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.protos import cloudevent_pb2 as ce

METHOD = "/bench.Batched/Open"
ROLE_HEADER = "role"
Write = Callable[[bytes], Awaitable[None]]


def pack(frames: Sequence[bytes]) -> bytes:
    """Length-prefix and join frames."""
    return b"".join(_VarintBytes(len(frame)) + frame for frame in frames)


def unpack(data: bytes) -> list[bytes]:
    """Split what :func:`pack` joined."""
    frames: list[bytes] = []
    position = 0
    while position < len(data):
        size, position = _DecodeVarint(data, position)
        frames.append(data[position : position + size])
        position += size
    return frames


def event_frame(seq: int, blob: bytes) -> bytes:
    """A publish of 100 bytes as an AutoGen worker frames it (minus the Any)."""
    event = ce.CloudEvent(id=f"m-{seq}", source="default", type="bench")
    event.spec_version = "1.0"
    event.binary_data = blob
    return pb.Message(cloudEvent=event).SerializeToString()


async def write_batches(queue: asyncio.Queue[bytes], write: Write, limit: int) -> None:
    """Write what is queued, up to ``limit`` frames per gRPC message."""
    while True:
        frames = [await queue.get()]
        while not queue.empty() and len(frames) < limit:
            frames.append(queue.get_nowait())
        await write(pack(frames))


class Relay:
    """Forwards every event from any stream to the subscriber streams."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.subscribers: list[asyncio.Queue[bytes]] = []

    async def open(
        self, batches: Any, context: grpc.aio.ServicerContext[bytes, bytes]
    ) -> None:
        """One client's stream."""
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        if dict(context.invocation_metadata() or ()).get(ROLE_HEADER) == "sub":
            self.subscribers.append(queue)

        async def route() -> None:
            async for batch in batches:
                for frame in unpack(batch):
                    if pb.Message.FromString(frame).HasField("cloudEvent"):
                        for subscriber in self.subscribers:
                            subscriber.put_nowait(frame)

        reader = asyncio.create_task(route())
        try:
            await write_batches(queue, context.write, self.limit)
        finally:
            reader.cancel()


def _report(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def relay(limit: int) -> None:
    """Serve until stdin closes; report CPU seconds."""
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        "bench.Batched",
        {"Open": grpc.stream_stream_rpc_method_handler(Relay(limit).open)},
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    _report(port=port)
    start = time.process_time()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    _report(cpu=time.process_time() - start)
    await server.stop(0)


async def client(role: str, port: int, count: int, limit: int) -> None:
    """Publish or receive ``count`` events."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        open_stream = channel.stream_stream(METHOD, None, None)
        call: grpc.aio.StreamStreamCall[bytes, bytes] = open_stream(
            None, metadata=((ROLE_HEADER, role),)
        )
        await call.wait_for_connection()
        start = time.process_time()
        if role == "sub":
            _report(ready=True)
            received, first = 0, 0.0
            while received < count:
                batch = await call.read()
                assert isinstance(batch, bytes)
                for frame in unpack(batch):
                    pb.Message.FromString(frame)
                    received += 1
                    first = first or time.monotonic()
            wall = time.monotonic() - first
            _report(rate=count / wall, cpu=time.process_time() - start)
        else:
            queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=10_000)
            writer = asyncio.create_task(write_batches(queue, call.write, limit))
            blob = b"x" * 100
            for seq in range(count):
                await queue.put(event_frame(seq, blob))
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            _report(cpu=time.process_time() - start)
            writer.cancel()


async def _spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.experiments.batched_channel",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


async def _line(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    if not line:
        raise RuntimeError("a child of the experiment exited early")
    found: dict[str, Any] = json.loads(line)
    return found


async def drive(count: int, limit: int) -> None:
    """Run relay, subscriber and publisher; print the figures."""
    processes: list[asyncio.subprocess.Process] = []
    try:
        host = await _spawn("--role", "relay", "--max-batch", str(limit))
        processes.append(host)
        port = str((await _line(host))["port"])
        common = ("--port", port, "--count", str(count), "--max-batch", str(limit))
        sub = await _spawn("--role", "sub", *common)
        processes.append(sub)
        await _line(sub)
        pub = await _spawn("--role", "pub", *common)
        processes.append(pub)
        received = await _line(sub)
        cpu = {"sub": received["cpu"]}
        for name, process in (("pub", pub), ("relay", host)):
            assert process.stdin is not None
            process.stdin.write(b"\n")
            await process.stdin.drain()
            cpu[name] = (await _line(process))["cpu"]
        per_message = " · ".join(
            f"{name} {seconds / count * 1e6:.1f}" for name, seconds in cpu.items()
        )
        print(
            f"max batch {limit}: {received['rate']:,.0f} msg/s at the subscriber; "
            f"CPU µs/msg {per_message}"
        )
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Drive the experiment, or play one of its roles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("relay", "sub", "pub"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--max-batch", type=int, default=256)
    args = parser.parse_args(argv)
    if args.role == "relay":
        asyncio.run(relay(args.max_batch))
    elif args.role in ("sub", "pub"):
        asyncio.run(client(args.role, args.port, args.count, args.max_batch))
    else:
        asyncio.run(drive(args.count, args.max_batch))


if __name__ == "__main__":
    main()
