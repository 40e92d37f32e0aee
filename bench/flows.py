"""The measured flows: which processes each scenario starts, and what it reads.

A flow runs once on one system in fresh processes and returns a
:class:`~bench.measure.Sample`. Hosts start first, then receivers, then
senders, each after the previous one reported ``ready``; throughput is
measured at the receiver (first to last message received).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from .measure import Sample, Window
from .procs import Child, ChildGroup, Event
from .shared import protoc
from .systems import AGENTGEN, System

__all__ = ["FLOWS", "QUICK_COUNTS", "Counts", "FlowContext"]

READY_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0
COUNT_POLL_SECONDS = 0.05
MIB = 1 << 20


@dataclass(frozen=True)
class Counts:
    """How many messages each flow sends (the issue's counts by default)."""

    inprocess_publish: int = 20_000
    inprocess_publish_warmup: int = 1_000
    inprocess_rpc: int = 5_000
    inprocess_rpc_warmup: int = 500
    grpc_publish: int = 20_000
    grpc_rpc: int = 2_000
    grpc_rpc_warmup: int = 100
    grpc_rpc_concurrent: int = 2_000
    grpc_rpc_callers: int = 16
    large: int = 2_000
    large_size: int = 64 * 1024
    fanout: int = 5_000
    fanout_subscribers: int = 4
    scale_out: int = 8_000
    scale_out_keys: int = 256
    scale_out_burn_us: float = 200.0
    payload_size: int = 100
    plugin_files: int = 50
    plugin_messages: int = 40


QUICK_COUNTS = Counts(
    inprocess_publish=300,
    inprocess_publish_warmup=30,
    inprocess_rpc=100,
    inprocess_rpc_warmup=10,
    grpc_publish=200,
    grpc_rpc=50,
    grpc_rpc_warmup=5,
    grpc_rpc_concurrent=64,
    large=20,
    fanout=100,
    scale_out=200,
    scale_out_keys=64,
    plugin_files=5,
    plugin_messages=6,
)
"""Small counts: every flow runs, in seconds (``--quick``, the smoke test)."""


@dataclass(frozen=True)
class FlowContext:
    """What every flow needs besides the system."""

    counts: Counts
    work_dir: Path
    """Children's working directory."""
    log_dir: Path
    """Where each child's stderr goes."""
    corpus: list[tuple[Path, list[str]]] = field(default_factory=list)
    """The plugin scenario's corpus (root, files), built on first use."""

    def group(self, system: System) -> ChildGroup:
        """A fresh group of children of ``system``."""
        return ChildGroup(system.env, self.work_dir, self.log_dir)


def _done_timeout(messages: int, seconds_per_message: float) -> float:
    """A generous bound for a phase: AutoGen under load, times three."""
    return 30.0 + messages * seconds_per_message


async def _ready(child: Child) -> Event:
    return await child.expect("ready", READY_TIMEOUT_SECONDS)


async def _stop_all(children: list[Child]) -> dict[str, Event]:
    """Stop every child, last started first (the host last); their results."""
    return {
        child.name: await child.stop(STOP_TIMEOUT_SECONDS)
        for child in reversed(children)
    }


# -- in-process ------------------------------------------------------------


async def inprocess_publish(context: FlowContext, system: System) -> Sample:
    """Scenario 1: publish to one subscribed agent in one process."""
    count = context.counts.inprocess_publish
    sample = Sample()
    async with context.group(system) as group:
        child = await group.spawn(
            "inprocess",
            system.inprocess_argv(
                "publish", count, context.counts.inprocess_publish_warmup
            ),
        )
        await _ready(child)
        window = await Window(group.children).open()
        await child.send("go")
        timeout = _done_timeout(count, 0.002)
        published = await child.expect("done", timeout)
        received = await child.expect("done", timeout)
        sample.add_usage(
            "publish", await window.close(), count, {child.name: "process"}
        )
        await _stop_all(group.children)
    sample.metrics["msgs_per_s"] = count / (received["last"] - published["start"])
    return sample


def _record_calls(sample: Sample, prefix: str, figures: dict[str, float]) -> None:
    sample.metrics[f"{prefix}calls_per_s"] = figures["count"] / figures["wall"]
    sample.metrics[f"{prefix}p50_us"] = figures["p50_us"]
    sample.metrics[f"{prefix}p99_us"] = figures["p99_us"]


async def inprocess_rpc(context: FlowContext, system: System) -> Sample:
    """Scenario 2: sequential RPCs to one agent in one process."""
    count = context.counts.inprocess_rpc
    sample = Sample()
    async with context.group(system) as group:
        child = await group.spawn(
            "inprocess",
            system.inprocess_argv("rpc", count, context.counts.inprocess_rpc_warmup),
        )
        await _ready(child)
        window = await Window(group.children).open()
        await child.send("go", phase="sequential", count=count, callers=1)
        figures = await child.expect("done", _done_timeout(count, 0.002))
        sample.add_usage("rpc", await window.close(), count, {child.name: "process"})
        await _stop_all(group.children)
    _record_calls(sample, "", figures)
    return sample


# -- through a host or NATS -------------------------------------------------


async def _publish_through_host(
    context: FlowContext,
    system: System,
    *,
    count: int,
    size: int,
    random: bool,
    subscribers: int,
    seconds_per_message: float,
) -> Sample:
    """Host, ``subscribers`` subscriber workers, one publisher worker."""
    sample = Sample()
    async with context.group(system) as group:
        host = await group.spawn("host", system.host_argv())
        address = str((await _ready(host))["address"])
        subs: list[Child] = []
        ready_at: list[float] = []
        for index in range(subscribers):
            agent_type = "Sink" if subscribers == 1 else f"Sink{index}"
            sub = await group.spawn(
                f"sub{index}",
                system.worker_argv(
                    "sub", address, count=count, size=size, agent_type=agent_type
                ),
            )
            ready_at.append(float((await _ready(sub))["t"]) - sub.started)
            subs.append(sub)
        pub = await group.spawn(
            "pub",
            system.worker_argv("pub", address, count=count, size=size, random=random),
        )
        await _ready(pub)
        window = await Window(group.children).open()
        await pub.send("go")
        timeout = _done_timeout(count * subscribers, seconds_per_message)
        await pub.expect("done", timeout)
        received = [await sub.expect("done", timeout) for sub in subs]
        roles = {"host": "host", "pub": "pub", **{sub.name: "sub" for sub in subs}}
        sample.add_usage("publish", await window.close(), count, roles)
        results = await _stop_all(group.children)
    first = min(float(r["first"]) for r in received)
    last = max(float(r["last"]) for r in received)
    per_receiver = [count / (float(r["last"]) - float(r["first"])) for r in received]
    sample.metrics["msgs_per_s"] = sum(per_receiver) / len(per_receiver)
    sample.metrics["deliveries_per_s"] = count * subscribers / (last - first)
    sample.metrics["mib_per_s"] = sample.metrics["msgs_per_s"] * size / MIB
    sample.metrics["cold_start_ms"] = ready_at[0] * 1e3
    host_result = results["host"]
    sample.metrics["host_rss_mib"] = float(host_result["rss_kib"]) / 1024
    return sample


async def remote_publish(context: FlowContext, system: System) -> Sample:
    """Scenarios 3 and 7: 100-byte publishes to one subscriber process."""
    counts = context.counts
    return await _publish_through_host(
        context,
        system,
        count=counts.grpc_publish,
        size=counts.payload_size,
        random=False,
        subscribers=1,
        seconds_per_message=0.003,
    )


async def remote_large(context: FlowContext, system: System) -> Sample:
    """Scenario 5: 64 KiB random-bytes publishes to one subscriber process."""
    counts = context.counts
    return await _publish_through_host(
        context,
        system,
        count=counts.large,
        size=counts.large_size,
        random=True,
        subscribers=1,
        seconds_per_message=0.08,
    )


async def remote_fanout(context: FlowContext, system: System) -> Sample:
    """Scenario 6: 100-byte publishes to four subscriber processes."""
    counts = context.counts
    return await _publish_through_host(
        context,
        system,
        count=counts.fanout,
        size=counts.payload_size,
        random=False,
        subscribers=counts.fanout_subscribers,
        seconds_per_message=0.003,
    )


async def remote_rpc(context: FlowContext, system: System) -> Sample:
    """Scenario 4: RPCs worker → host → worker; sequential, then concurrent."""
    counts = context.counts
    sample = Sample()
    async with context.group(system) as group:
        host = await group.spawn("host", system.host_argv())
        address = str((await _ready(host))["address"])
        echo = await group.spawn("echo", system.worker_argv("echo", address))
        await _ready(echo)
        caller = await group.spawn(
            "caller",
            system.worker_argv("caller", address, warmup=counts.grpc_rpc_warmup),
        )
        await _ready(caller)
        roles = {"host": "host", "caller": "caller", "echo": "callee"}
        phases = (
            ("", "sequential", counts.grpc_rpc, 1),
            (
                "conc_",
                "concurrent",
                counts.grpc_rpc_concurrent,
                counts.grpc_rpc_callers,
            ),
        )
        for prefix, phase, count, callers in phases:
            window = await Window(group.children).open()
            await caller.send("go", phase=phase, count=count, callers=callers)
            figures = await caller.expect("done", _done_timeout(count, 0.01))
            sample.add_usage(phase, await window.close(), count, roles)
            _record_calls(sample, prefix, figures)
        await _stop_all(group.children)
    return sample


def _corpus(context: FlowContext) -> tuple[Path, list[str]]:
    from .plugin_bench import DEFAULT_CORPUS_SCRIPT, build_corpus

    if not context.corpus:
        root = context.work_dir / "plugin-corpus"
        counts = context.counts
        files = build_corpus(
            DEFAULT_CORPUS_SCRIPT, root, counts.plugin_files, counts.plugin_messages
        )
        context.corpus.append((root, files))
    return context.corpus[0]


async def _generation_seconds(context: FlowContext, *flags: str) -> float:
    from .plugin_bench import Config, time_config

    root, files = _corpus(context)
    out = context.work_dir / "plugin-out"
    config = Config(" ".join(flags), flags)
    return await asyncio.to_thread(time_config, config, root, files, out)


async def plugin_generation(context: FlowContext, system: System) -> Sample:
    """Scenario 8: protoc on the synthetic corpus (``bench/plugin_bench.py``).

    agentgen: ``--agentgen_out`` alone, and with ``--python_out`` (what users
    run); the floor: ``--python_out`` alone, for both figures.
    """
    python_out = "--python_out={out}"
    sample = Sample()
    if system.key == AGENTGEN:
        plugin = (f"--plugin=protoc-gen-agentgen={protoc.plugin_path()}",)
        agentgen_out = (*plugin, "--agentgen_out={out}")
        sample.metrics["plugin_s"] = await _generation_seconds(context, *agentgen_out)
        sample.metrics["generate_s"] = await _generation_seconds(
            context, python_out, *agentgen_out
        )
    else:
        seconds = await _generation_seconds(context, python_out)
        sample.metrics["plugin_s"] = sample.metrics["generate_s"] = seconds
    return sample


async def _handled_counts(
    workers: list[Child], expected: int, timeout: float
) -> list[Event]:
    """Ask workers sharing a type for their counts until ``expected`` arrived."""
    async with asyncio.timeout(timeout):
        while True:
            reports: list[Event] = []
            for worker in workers:
                await worker.send("count")
                reports.append(await worker.expect("count", timeout))
            if sum(int(report["count"]) for report in reports) >= expected:
                return reports
            await asyncio.sleep(COUNT_POLL_SECONDS)


async def _shared_type_run(
    context: FlowContext, system: System, sample: Sample, phase: str, workers: int
) -> tuple[float, float]:
    """Host, ``workers`` burning workers sharing the type, one publisher.

    Returns the messages handled per second over all workers, from the first
    arrival at any of them to the last, and the busiest worker's share.
    """
    counts = context.counts
    count = counts.scale_out
    async with context.group(system) as group:
        host = await group.spawn(f"host-{phase}", system.host_argv(shared_types=True))
        address = str((await _ready(host))["address"])
        subs: list[Child] = []
        for index in range(workers):
            sub = await group.spawn(
                f"worker{index}-{phase}",
                system.worker_argv("sub", address, burn_us=counts.scale_out_burn_us),
            )
            await _ready(sub)
            subs.append(sub)
        pub = await group.spawn(
            f"pub-{phase}",
            system.worker_argv("pub", address, count=count, keys=counts.scale_out_keys),
        )
        await _ready(pub)
        window = await Window(group.children).open()
        await pub.send("go")
        timeout = _done_timeout(count, 0.002)
        await pub.expect("done", timeout)
        reports = await _handled_counts(subs, count, timeout)
        roles = {
            host.name: "host",
            pub.name: "pub",
            **{sub.name: f"worker{index}" for index, sub in enumerate(subs)},
        }
        sample.add_usage(phase, await window.close(), count, roles)
        await _stop_all(group.children)
    first = min(float(report["first"]) for report in reports if report["count"])
    last = max(float(report["last"]) for report in reports)
    busiest = max(int(report["count"]) for report in reports)
    return count / (last - first), busiest / count


async def scale_out(context: FlowContext, system: System) -> Sample:
    """Scenario 9: a CPU-bound handler served by 1, then 2 worker processes."""
    sample = Sample()
    one, _ = await _shared_type_run(context, system, sample, "one", 1)
    two, share = await _shared_type_run(context, system, sample, "two", 2)
    sample.metrics["one_msgs_per_s"] = one
    sample.metrics["two_msgs_per_s"] = two
    sample.metrics["scale_x"] = two / one
    sample.metrics["two_top_share_pct"] = share * 100
    return sample


Flow = Callable[[FlowContext, System], Awaitable[Sample]]

FLOWS: dict[str, Flow] = {
    "inprocess_publish": inprocess_publish,
    "inprocess_rpc": inprocess_rpc,
    "remote_publish": remote_publish,
    "remote_rpc": remote_rpc,
    "remote_large": remote_large,
    "remote_fanout": remote_fanout,
    "plugin": plugin_generation,
    "scale_out": scale_out,
}
"""Every flow by name (scenarios refer to flows by these names)."""
