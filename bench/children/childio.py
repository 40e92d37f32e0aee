"""What every benchmark child process shares (standard library only).

Children run in agentgen's venv or in AutoGen's, so this module imports
nothing else. The protocol with the runner (``bench/procs.py``) is JSON lines:

* the child prints events on stdout, one object per line with an ``"event"``
  key: ``ready`` once set up, ``done`` when a phase of work is over,
  ``mark`` in answer to a ``mark`` command, ``result`` in answer to ``stop``,
  ``error`` (then exits 1) when it fails;
* the runner sends commands on stdin: ``mark`` (report CPU time now),
  ``go`` (run a phase of work), ``count`` (a receiver of a shared agent type
  reports what it received so far), ``stop`` (report and exit). Closing
  stdin also ends the child.

CPU time is the process's own (``time.process_time``: every thread), and
timestamps are ``time.monotonic`` (CLOCK_MONOTONIC, shared by all processes
of the machine), so the runner can compare times taken in different children.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import socket
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BENCH_TOPIC",
    "ECHO_TYPE",
    "IN_PROCESS_PAYLOAD_BYTES",
    "SINK_TYPE",
    "Control",
    "Receiver",
    "WorkerArgs",
    "burn_cpu",
    "emit",
    "free_port",
    "in_process_publish",
    "make_blob",
    "memory_kib",
    "parse_worker_args",
    "process_cpu_seconds",
    "run_caller",
    "run_child",
    "run_counting_receiver",
    "run_in_process_child",
    "run_publisher",
    "run_receiver",
    "serve_until_stop",
    "timed_calls",
    "worker_args",
    "worker_parser",
]

BENCH_TOPIC = "bench"
"""The topic type every benchmark message is published to."""
SINK_TYPE = "Sink"
"""The agent type that receives published messages."""
ECHO_TYPE = "Echo"
"""The agent type that answers RPCs."""
IN_PROCESS_PAYLOAD_BYTES = 100
"""The Ping payload size of the in-process scenarios."""
LOOP_VARIABLE = "AGENTGEN_BENCH_LOOP"
"""Set to ``uvloop`` to run the child on uvloop (if it is installed)."""
PROFILE_VARIABLE = "AGENTGEN_BENCH_PROFILE"
"""Set to a directory to cProfile each child from its first ``mark`` to ``stop``."""

Command = dict[str, Any]


def emit(event: str, **fields: Any) -> None:
    """Write one event line to stdout and flush it."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def memory_kib(pid: int | None = None) -> dict[str, int]:
    """A process's resident memory now and at its peak, in KiB (default: ours)."""
    found: dict[str, int] = {}
    where = "self" if pid is None else str(pid)
    with open(f"/proc/{where}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found["rss_kib" if name == "VmRSS" else "hwm_kib"] = int(
                    value.split()[0]
                )
    return found


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of another process (Linux ``/proc``, in ticks)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_blob(size: int, random: bool) -> bytes:
    """The payload bytes: ``size`` bytes of ``x``, or of random bytes."""
    return os.urandom(size) if random else b"x" * size


def burn_cpu(seconds: float) -> None:
    """Spin until this process has used ``seconds`` more CPU (a busy handler)."""
    clock = time.process_time
    end = clock() + seconds
    while clock() < end:
        pass


class _Profile:
    """cProfile of the measured phases, when ``AGENTGEN_BENCH_PROFILE`` is set."""

    def __init__(self) -> None:
        directory = os.environ.get(PROFILE_VARIABLE)
        self._path = (
            None
            if not directory
            else os.path.join(
                directory,
                f"{os.path.basename(sys.argv[0]).removesuffix('.py')}-"
                f"{'-'.join(sys.argv[1:2])}-{os.getpid()}.prof",
            )
        )
        self._profiler: cProfile.Profile | None = None

    def start(self) -> None:
        """Start profiling (once)."""
        if self._path is not None and self._profiler is None:
            # Main-thread CPU time, not wall time: waits in epoll and time
            # other processes took from us are not charged to functions.
            self._profiler = cProfile.Profile(time.thread_time)
            self._profiler.enable()

    def finish(self) -> None:
        """Stop profiling and write the statistics file."""
        if self._profiler is not None and self._path is not None:
            self._profiler.disable()
            self._profiler.dump_stats(self._path)
            self._profiler = None


PROFILE = _Profile()


class Control:
    """The runner's commands: answers ``mark`` itself, queues the others."""

    def __init__(self) -> None:
        self._commands: asyncio.Queue[Command | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self.extra_cpu: Callable[[], float] | None = None
        """CPU seconds of a process this child runs for the system (a server),
        added to every CPU time this child reports."""

    def cpu(self) -> float:
        """The CPU seconds this child reports: its own plus :attr:`extra_cpu`'s."""
        extra = self.extra_cpu
        return time.process_time() + (extra() if extra is not None else 0.0)

    async def start(self) -> None:
        """Start reading stdin."""
        loop = asyncio.get_running_loop()
        stream = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stream), sys.stdin
        )
        self._reader = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            if not line.strip():
                continue
            command: Command = json.loads(line)
            if command.get("cmd") == "mark":
                emit("mark", cpu=self.cpu(), t=time.monotonic())
                PROFILE.start()
            else:
                if command.get("cmd") == "stop":
                    PROFILE.finish()
                self._commands.put_nowait(command)
        self._commands.put_nowait(None)

    async def next(self) -> Command:
        """The next command other than ``mark``; exits when stdin closes."""
        command = await self._commands.get()
        if command is None:
            raise SystemExit("stdin closed: the runner is gone")
        return command

    async def expect(self, name: str) -> Command:
        """The next command, which must be ``name``."""
        command = await self.next()
        if command.get("cmd") != name:
            raise RuntimeError(f"expected command {name!r}, got {command!r}")
        return command


async def serve_until_stop(control: Control, **report: Any) -> None:
    """Wait for ``stop`` and answer with CPU time, memory and ``report``."""
    await control.expect("stop")
    emit("result", cpu=control.cpu(), **memory_kib(), **report)


class Receiver:
    """Counts received messages; first and last arrival times; done at ``expected``.

    ``on_message`` is on the hot path of every receiving child: keep it cheap.
    """

    __slots__ = ("count", "done", "expected", "first", "last")

    count: int
    done: asyncio.Event
    expected: int
    first: float
    last: float

    def __init__(self, expected: int) -> None:
        self.reset(expected)

    def reset(self, expected: int) -> None:
        """Start counting afresh, expecting ``expected`` messages."""
        self.expected = expected
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.done = asyncio.Event()

    def on_message(self) -> None:
        """Record one arrival."""
        now = time.monotonic()
        if not self.count:
            self.first = now
        self.last = now
        self.count += 1
        if self.count == self.expected:
            self.done.set()

    def report(self) -> dict[str, Any]:
        """The counts and times for a ``done`` event."""
        return {"count": self.count, "first": self.first, "last": self.last}


async def run_receiver(control: Control, receiver: Receiver) -> None:
    """Report ``ready``, then ``done`` once every message arrived, until ``stop``.

    A ``stop`` before the last message (the runner gave up waiting) is
    answered with the count received so far.
    """
    emit("ready", t=time.monotonic())
    stop = asyncio.ensure_future(control.expect("stop"))
    done = asyncio.ensure_future(receiver.done.wait())
    await asyncio.wait((stop, done), return_when=asyncio.FIRST_COMPLETED)
    if done.done():
        emit("done", phase="receive", **receiver.report())
        await stop
    else:
        done.cancel()
    emit("result", cpu=time.process_time(), **memory_kib(), **receiver.report())


async def run_counting_receiver(control: Control, receiver: Receiver) -> None:
    """Report ``ready``, then answer each ``count`` with what arrived, until ``stop``.

    For receivers sharing an agent type: none knows how many messages are
    its share, so the runner asks until the sum over all of them is complete.
    """
    emit("ready", t=time.monotonic())
    while (command := await control.next()).get("cmd") == "count":
        emit("count", **receiver.report())
    if command.get("cmd") != "stop":
        raise RuntimeError(f"expected count or stop, got {command!r}")
    emit("result", cpu=time.process_time(), **memory_kib(), **receiver.report())


async def run_publisher(
    control: Control, publish: Callable[[int], Awaitable[None]], count: int
) -> None:
    """Report ``ready``; on ``go``, call ``publish(seq)`` for ``count`` numbers."""
    emit("ready")
    await control.expect("go")
    start = time.monotonic()
    for seq in range(count):
        await publish(seq)
    emit("done", phase="publish", count=count, start=start, end=time.monotonic())


async def in_process_publish(
    control: Control,
    publish: Callable[[int], Awaitable[None]],
    receiver: Receiver,
    count: int,
) -> None:
    """Scenario 1 once the Sink counting into ``receiver`` is registered.

    Publishes ``receiver.expected`` warm-up messages and waits for them,
    reports ``ready``, publishes ``count`` on ``go`` and reports ``done``
    (phase ``receive``) once every one arrived.
    """
    for seq in range(receiver.expected):
        await publish(seq)
    await receiver.done.wait()
    receiver.reset(count)
    await run_publisher(control, publish, count)
    await receiver.done.wait()
    emit("done", phase="receive", **receiver.report())


def _percentile(ordered: list[float], fraction: float) -> float:
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def timed_calls(
    call: Callable[[int], Awaitable[None]], count: int, callers: int
) -> dict[str, Any]:
    """Make ``count`` calls from ``callers`` concurrent loops; time each call.

    Returns the call count, wall time, and p50 and p99 latency in µs.
    """
    latencies: list[float] = []
    clock = time.perf_counter

    async def caller(first: int) -> None:
        for seq in range(first, count, callers):
            started = clock()
            await call(seq)
            latencies.append(clock() - started)

    start = time.monotonic()
    await asyncio.gather(*(caller(first) for first in range(callers)))
    wall = time.monotonic() - start
    latencies.sort()
    return {
        "count": count,
        "wall": wall,
        "p50_us": _percentile(latencies, 0.50) * 1e6,
        "p99_us": _percentile(latencies, 0.99) * 1e6,
    }


async def run_caller(
    control: Control, call: Callable[[int], Awaitable[None]], warmup: int
) -> None:
    """Make ``warmup`` calls, then run each ``go`` phase the runner asks for.

    A ``go`` command carries ``count`` and ``callers``; the child answers
    ``done`` with :func:`timed_calls`'s figures, until ``stop``.
    """
    await timed_calls(call, warmup, 1)
    emit("ready", t=time.monotonic())
    while (command := await control.next()).get("cmd") == "go":
        figures = await timed_calls(call, command["count"], command["callers"])
        emit("done", phase=command.get("phase", ""), **figures)
    if command.get("cmd") != "stop":
        raise RuntimeError(f"expected go or stop, got {command!r}")
    emit("result", cpu=time.process_time(), **memory_kib())


WORKER_ROLES = ("sub", "pub", "echo", "caller")


@dataclass(frozen=True)
class WorkerArgs:
    """The command line every worker child accepts."""

    role: str
    address: str
    count: int
    size: int
    random: bool
    warmup: int
    agent_type: str
    keys: int = 0
    """Publisher: spread the messages over this many topic sources (agent
    keys), ``k0``, ``k1``, ... in turn; 0: the default source only."""
    burn_us: float = 0.0
    """Subscriber: CPU µs its handler spends per message (scale-out); it then
    shares its agent type and answers ``count`` (``run_counting_receiver``)."""


def worker_parser(
    description: str,
    roles: tuple[str, ...] = WORKER_ROLES,
    *,
    address_required: bool = True,
) -> argparse.ArgumentParser:
    """The parser of a worker child's command line (the same for every system)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("role", choices=roles)
    parser.add_argument(
        "--address",
        required=address_required,
        default="",
        help="host:port of the host, or the NATS server's URL",
    )
    parser.add_argument("--count", type=int, default=0, help="messages to expect/send")
    parser.add_argument("--size", type=int, default=100, help="payload bytes")
    parser.add_argument("--random", action="store_true", help="random payload")
    parser.add_argument("--warmup", type=int, default=0, help="warm-up RPCs")
    parser.add_argument(
        "--agent-type", default=SINK_TYPE, help="agent type of a subscriber"
    )
    parser.add_argument(
        "--keys", type=int, default=0, help="publisher: distinct agent keys"
    )
    parser.add_argument(
        "--burn-us", type=float, default=0.0, help="subscriber: CPU µs per message"
    )
    return parser


def worker_args(parsed: argparse.Namespace) -> WorkerArgs:
    """The :class:`WorkerArgs` of a command line :func:`worker_parser` parsed."""
    return WorkerArgs(
        parsed.role,
        parsed.address,
        parsed.count,
        parsed.size,
        parsed.random,
        parsed.warmup,
        parsed.agent_type,
        parsed.keys,
        parsed.burn_us,
    )


def parse_worker_args(description: str) -> WorkerArgs:
    """Parse a worker child's command line (the same for every system)."""
    return worker_args(worker_parser(description).parse_args())


def _new_event_loop() -> asyncio.AbstractEventLoop:
    if os.environ.get(LOOP_VARIABLE) == "uvloop":
        import uvloop  # type: ignore[import-not-found,unused-ignore]

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
        return loop
    return asyncio.new_event_loop()


def run_child(main: Callable[[Control], Coroutine[Any, Any, None]]) -> None:
    """Run ``main(control)``; report any failure as an ``error`` event."""

    async def guarded() -> None:
        control = Control()
        await control.start()
        await main(control)

    try:
        with asyncio.Runner(loop_factory=_new_event_loop) as runner:
            runner.run(guarded())
    except SystemExit:
        raise
    except BaseException as error:  # the runner must hear about every failure
        emit("error", message=f"{type(error).__name__}: {error}")
        traceback.print_exc()
        sys.exit(1)


def run_in_process_child(
    description: str,
    publish_mode: Callable[[Control, int, int], Coroutine[Any, Any, None]],
    rpc_mode: Callable[[Control, int], Coroutine[Any, Any, None]],
) -> None:
    """Run an in-process child: ``publish|rpc --count N --warmup W``.

    ``publish`` runs ``publish_mode(control, count, warmup)``, ``rpc`` runs
    ``rpc_mode(control, warmup)``, both under :func:`run_child`.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("mode", choices=("publish", "rpc"))
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=0)
    args = parser.parse_args()

    async def run(control: Control) -> None:
        if args.mode == "publish":
            await publish_mode(control, args.count, args.warmup)
        else:
            await rpc_mode(control, args.warmup)

    run_child(run)
