"""The eight scenarios of the benchmark, their metrics and the issue's targets."""

from __future__ import annotations

from dataclasses import dataclass

from .systems import AGENTGEN, AUTOGEN, FLOOR

__all__ = ["SCENARIOS", "Metric", "Scenario", "Target", "select"]

INPROCESS = (AGENTGEN, AUTOGEN)
OVER_GRPC = (AGENTGEN, AUTOGEN, FLOOR)


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
    """A goal of the issue: ``agentgen / versus`` compared with ``ratio``."""

    metric: str
    versus: str
    ratio: float
    text: str

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
        "gRPC publish via host, 1 subscriber process, 100 B",
        "grpc_publish",
        OVER_GRPC,
        (Metric("msgs_per_s", "msgs/s at receiver", "msg/s", cpu_phase="publish"),),
        (
            Target("msgs_per_s", AUTOGEN, 3.0, "gRPC publish ≥ 3x AutoGen"),
            Target("msgs_per_s", FLOOR, 0.7, "gRPC publish ≥ 70% of the relay floor"),
        ),
    ),
    Scenario(
        4,
        "gRPC RPC worker → host → worker",
        "grpc_rpc",
        OVER_GRPC,
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
        ),
    ),
    Scenario(
        5,
        "gRPC publish, 64 KiB random bytes",
        "grpc_large",
        OVER_GRPC,
        (Metric("mib_per_s", "MiB/s", "MiB/s", cpu_phase="publish", digits=1),),
        (Target("mib_per_s", AUTOGEN, 20.0, "64 KiB payloads ≥ 20x AutoGen MiB/s"),),
    ),
    Scenario(
        6,
        "gRPC fan-out to 4 subscriber processes, 100 B",
        "grpc_fanout",
        OVER_GRPC,
        (Metric("deliveries_per_s", "deliveries/s", "1/s", cpu_phase="publish"),),
        (Target("deliveries_per_s", AUTOGEN, 3.0, "fan-out ≥ 3x AutoGen"),),
    ),
    Scenario(
        7,
        "cold start; host RSS after scenario 3",
        "grpc_publish",
        OVER_GRPC,
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
