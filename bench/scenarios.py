"""The nine scenarios of the benchmark, their metrics and the issues' targets."""

from __future__ import annotations

from dataclasses import dataclass

from .systems import AGENTGEN, AUTOGEN, FLOOR, NATS, NATS_FLOOR

__all__ = ["SCENARIOS", "Metric", "Scenario", "Target", "select"]

INPROCESS = (AGENTGEN, AUTOGEN)
REMOTE = (AGENTGEN, AUTOGEN, FLOOR, NATS, NATS_FLOOR)
"""Systems whose workers are separate processes (through a host or NATS)."""


@dataclass(frozen=True)
class Metric:
    """One figure a scenario reports."""

    key: str
    """Key in :attr:`bench.measure.Sample.metrics`."""
    label: str
    unit: str
    higher_is_better: bool = True
    cpu_phase: str | None = None
    """The measured phase whose CPU µs per message goes beside this figure."""
    digits: int = 0


@dataclass(frozen=True)
class Target:
    """A goal of an issue: ``system / versus`` compared with ``ratio``.

    With ``versus`` ``None`` the figure itself (a ratio already, e.g. a
    speed-up) is compared.
    """

    metric: str
    versus: str | None
    ratio: float
    text: str
    system: str = AGENTGEN

    def met(self, measured: float, higher_is_better: bool) -> bool:
        """Whether the measured ratio reaches the target."""
        return measured >= self.ratio if higher_is_better else measured <= self.ratio


@dataclass(frozen=True)
class Scenario:
    """One scenario: what it measures, on which systems, and its targets."""

    number: int
    title: str
    flow: str
    systems: tuple[str, ...]
    metrics: tuple[Metric, ...]
    targets: tuple[Target, ...] = ()


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        1,
        "in-process publish, 1 subscriber, 100 B",
        "inprocess_publish",
        INPROCESS,
        (Metric("msgs_per_s", "msgs/s", "msg/s", cpu_phase="publish"),),
        (Target("msgs_per_s", AUTOGEN, 20.0, "in-process publish ≥ 20x AutoGen"),),
    ),
    Scenario(
        2,
        "in-process RPC, sequential",
        "inprocess_rpc",
        INPROCESS,
        (
            Metric("calls_per_s", "calls/s", "call/s", cpu_phase="rpc"),
            Metric("p50_us", "p50", "µs", higher_is_better=False),
            Metric("p99_us", "p99", "µs", higher_is_better=False),
        ),
        (Target("calls_per_s", AUTOGEN, 10.0, "in-process RPC ≥ 10x AutoGen"),),
    ),
    Scenario(
        3,
        "publish via host or NATS, 1 subscriber process, 100 B",
        "remote_publish",
        REMOTE,
        (Metric("msgs_per_s", "msgs/s at receiver", "msg/s", cpu_phase="publish"),),
        (
            Target("msgs_per_s", AUTOGEN, 3.0, "gRPC publish ≥ 3x AutoGen"),
            Target("msgs_per_s", FLOOR, 0.7, "gRPC publish ≥ 70% of the relay floor"),
            Target("msgs_per_s", AUTOGEN, 15.0, "NATS publish ≥ 15x AutoGen", NATS),
        ),
    ),
    Scenario(
        4,
        "RPC worker → host → worker (NATS: worker → server → worker)",
        "remote_rpc",
        REMOTE,
        (
            Metric(
                "calls_per_s", "sequential calls/s", "call/s", cpu_phase="sequential"
            ),
            Metric("p50_us", "sequential p50", "µs", higher_is_better=False),
            Metric("p99_us", "sequential p99", "µs", higher_is_better=False),
            Metric(
                "conc_calls_per_s",
                "16 callers calls/s",
                "call/s",
                cpu_phase="concurrent",
            ),
            Metric("conc_p50_us", "16 callers p50", "µs", higher_is_better=False),
            Metric("conc_p99_us", "16 callers p99", "µs", higher_is_better=False),
        ),
        (
            Target("calls_per_s", AUTOGEN, 2.5, "gRPC RPC ≥ 2.5x AutoGen calls/s"),
            Target("p99_us", AUTOGEN, 0.5, "gRPC RPC p99 ≤ ½ AutoGen's"),
            Target(
                "calls_per_s",
                AUTOGEN,
                2.0,
                "NATS sequential RPC ≥ 2x AutoGen calls/s",
                NATS,
            ),
            Target(
                "calls_per_s",
                NATS_FLOOR,
                0.8,
                "NATS sequential RPC ≥ 80% of raw nats-py request/reply",
                NATS,
            ),
        ),
    ),
    Scenario(
        5,
        "publish of 64 KiB random bytes",
        "remote_large",
        REMOTE,
        (Metric("mib_per_s", "MiB/s", "MiB/s", cpu_phase="publish", digits=1),),
        (Target("mib_per_s", AUTOGEN, 20.0, "64 KiB payloads ≥ 20x AutoGen MiB/s"),),
    ),
    Scenario(
        6,
        "fan-out to 4 subscriber processes, 100 B",
        "remote_fanout",
        REMOTE,
        (Metric("deliveries_per_s", "deliveries/s", "1/s", cpu_phase="publish"),),
        (Target("deliveries_per_s", AUTOGEN, 3.0, "fan-out ≥ 3x AutoGen"),),
    ),
    Scenario(
        7,
        "cold start; host (NATS: nats-server) RSS after scenario 3",
        "remote_publish",
        REMOTE,
        (
            Metric("cold_start_ms", "worker cold start", "ms", higher_is_better=False),
            Metric("host_rss_mib", "host RSS", "MiB", higher_is_better=False, digits=1),
        ),
        (
            Target("cold_start_ms", AUTOGEN, 0.5, "cold start ≤ ½ AutoGen's"),
            Target("host_rss_mib", AUTOGEN, 1.0, "host RSS ≤ AutoGen's host"),
        ),
    ),
    Scenario(
        8,
        "plugin on the synthetic corpus (floor column: --python_out alone)",
        "plugin",
        (AGENTGEN, FLOOR),
        (
            Metric(
                "plugin_s",
                "--agentgen_out alone",
                "s",
                higher_is_better=False,
                digits=2,
            ),
            Metric(
                "generate_s",
                "--python_out --agentgen_out",
                "s",
                higher_is_better=False,
                digits=2,
            ),
        ),
    ),
    Scenario(
        9,
        "scale-out: ~200 µs of CPU per message, 1 then 2 worker processes "
        "sharing the type (gRPC: host with by-key sharing)",
        "scale_out",
        (AGENTGEN, NATS),
        (
            Metric("one_msgs_per_s", "1 worker msgs/s", "msg/s", cpu_phase="one"),
            Metric("two_msgs_per_s", "2 workers msgs/s", "msg/s", cpu_phase="two"),
            Metric("scale_x", "2 workers / 1 worker", "x", digits=2),
            Metric(
                "two_top_share_pct",
                "2 workers: the busier one's share",
                "%",
                higher_is_better=False,
            ),
        ),
        (Target("scale_x", None, 1.5, "NATS: 2 workers ≥ 1.5x one worker", NATS),),
    ),
)


def select(numbers: list[int] | None) -> tuple[Scenario, ...]:
    """The scenarios with these numbers (all when ``None``), in order."""
    if numbers is None:
        return SCENARIOS
    known = {scenario.number: scenario for scenario in SCENARIOS}
    unknown = sorted(set(numbers) - set(known))
    if unknown:
        raise ValueError(
            f"no scenario {', '.join(map(str, unknown))}; "
            f"choose from {', '.join(map(str, sorted(known)))}"
        )
    return tuple(known[number] for number in sorted(set(numbers)))
