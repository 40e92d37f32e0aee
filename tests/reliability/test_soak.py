"""Soak: 8 worker processes publish through one host process; nothing is lost.

Every message must reach every subscribed agent instance exactly once, in
order per publisher and agent, and the host's memory must stay flat once
warmed up. The figures are printed (``-s``) and, for the full soak, written
to ``SOAK.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .children import HERE, ChildProcess, spawned
from .soak_plan import SoakSize

pytestmark = pytest.mark.timeout(1800)

START_TIMEOUT = 120.0
WARM_UP_SHARE = 0.2
"""Host memory is compared from when this share of the deliveries is done."""
RSS_GROWTH_LIMIT_KIB = 12 * 1024
"""How much the host's RSS may grow after warm-up (allocator noise, not a leak)."""
SAMPLE_EVERY = 0.05
SOAK_RECORD = HERE / "SOAK.md"


@dataclass
class MemorySample:
    deliveries: int
    rss_kib: int


async def host_counters(host: ChildProcess) -> dict[str, int]:
    host.send("counters")
    counters: dict[str, int] = await host.expect_json("counters", 30)
    return counters


async def sample_memory(
    host: ChildProcess, samples: list[MemorySample], stop: asyncio.Event
) -> None:
    """Record the host's deliveries and RSS every SAMPLE_EVERY s until ``stop``.

    One more sample is taken once ``stop`` is set (all delivered), so even a
    fast run has one after warm-up besides those taken on the way.
    """
    while True:
        stopping = stop.is_set()
        counters = await host_counters(host)
        samples.append(MemorySample(counters["event_deliveries"], host.rss_kib()))
        if stopping:
            return
        # A sampling period, not a synchronisation: the loop ends on ``stop``.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)


def memory_after_warm_up(
    samples: list[MemorySample], deliveries: int
) -> tuple[int, int]:
    """RSS at warm-up and the highest RSS after it, in KiB."""
    warm = [s for s in samples if s.deliveries >= deliveries * WARM_UP_SHARE]
    assert len(warm) >= 2, f"too few memory samples after warm-up: {samples}"
    return warm[0].rss_kib, max(s.rss_kib for s in warm)


async def test_soak_every_message_once_in_order_and_host_memory_flat(
    soak_size: SoakSize, tmp_path: Path
) -> None:
    plan = soak_size.plan
    deliveries = plan.deliveries()
    receive_timeout = 60.0 + plan.messages * 0.05
    loop = asyncio.get_running_loop()
    async with spawned(tmp_path) as children:
        host = await children.start(
            "host", ["-m", "tests.reliability.host_child", "127.0.0.1:0"]
        )
        address = await host.expect("listening", START_TIMEOUT)
        workers = [
            await children.start(
                f"worker-{index}",
                [
                    "-m",
                    "tests.reliability.soak_worker",
                    address,
                    str(index),
                    str(plan.workers),
                    str(plan.messages),
                ],
            )
            for index in range(plan.workers)
        ]
        for worker in workers:
            await worker.expect("ready", START_TIMEOUT)
        rss_idle = host.rss_kib()

        samples: list[MemorySample] = []
        sampling_done = asyncio.Event()
        sampler = asyncio.create_task(sample_memory(host, samples, sampling_done))
        started = loop.time()
        for worker in workers:
            worker.send("go")
        publish_seconds = [
            float(await worker.expect("published", receive_timeout))
            for worker in workers
        ]
        for worker in workers:
            line = await worker.read_line(receive_timeout)
            assert line == "complete", f"{worker.name}: {line}"
        elapsed = loop.time() - started
        sampling_done.set()
        await asyncio.wait_for(sampler, 30)

        counters = await host_counters(host)
        rss_after = host.rss_kib()
        rss_peak = host.peak_rss_kib()
        reports: list[dict[str, Any]] = []
        for worker in workers:
            worker.send("report")
            reports.append(await worker.expect_json("report", 60))
        host.send("stop")
        assert await host.wait(30) == 0

    for index, report in enumerate(reports):
        assert report["received"] == plan.expected(index), f"worker {index}"
        worker_counters = report["counters"]
        assert worker_counters["published"] == plan.messages
        assert worker_counters["publishes_refused"] == 0
        assert worker_counters["malformed_frames"] == 0
        assert worker_counters["internal_errors"] == 0
    assert sum(r["counters"]["events_delivered"] for r in reports) == deliveries
    assert counters["event_deliveries"] == deliveries
    assert counters["frames_dropped"] == 0
    assert counters["events_without_subscriber"] == 0
    assert counters["internal_errors"] == 0

    rss_warm, rss_highest = memory_after_warm_up(samples, deliveries)
    published = plan.workers * plan.messages
    figures = {
        "size": f"{plan.workers} workers x {plan.messages:,} messages",
        "published": published,
        "deliveries": deliveries,
        "seconds": elapsed,
        "messages_per_second": published / elapsed,
        "deliveries_per_second": deliveries / elapsed,
        "slowest_publisher_seconds": max(publish_seconds),
        "rss_idle_mib": rss_idle / 1024,
        "rss_warm_mib": rss_warm / 1024,
        "rss_highest_after_warm_mib": rss_highest / 1024,
        "rss_end_mib": rss_after / 1024,
        "rss_peak_mib": rss_peak / 1024,
        "samples": len(samples),
    }
    print("\nsoak figures:", figures)
    if soak_size.name == "full":
        write_record(figures)
    assert rss_highest - rss_warm < RSS_GROWTH_LIMIT_KIB, figures


def write_record(figures: dict[str, Any]) -> None:
    """Write the figures of this full soak run to SOAK.md."""
    rss = " / ".join(
        f"{figures[name]:.1f}"
        for name in (
            "rss_idle_mib",
            "rss_warm_mib",
            "rss_highest_after_warm_mib",
            "rss_end_mib",
        )
    )
    rows = [
        ("date", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")),
        (
            "machine",
            f"{platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}",
        ),
        (
            "size",
            f"{figures['size']}, one host process, "
            f"{figures['deliveries']:,} deliveries to agents",
        ),
        ("wall time, first publish to last delivery", f"{figures['seconds']:.1f} s"),
        ("published", f"{figures['messages_per_second']:,.0f} msg/s"),
        ("delivered to agents", f"{figures['deliveries_per_second']:,.0f} msg/s"),
        ("lost, duplicated or out of order", "0 (checked per agent and publisher)"),
        (
            f"host RSS idle / at warm-up ({WARM_UP_SHARE:.0%} delivered) / "
            "highest after warm-up / end",
            f"{rss} MiB",
        ),
        ("host peak RSS (VmHWM)", f"{figures['rss_peak_mib']:.1f} MiB"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    SOAK_RECORD.write_text(
        "# Last full soak run\n\n"
        "Written by `tests/reliability/test_soak.py` when run with "
        "`AGENTGEN_SOAK=full`.\n\n| figure | value |\n|---|---|\n" + table + "\n"
    )
