"""Summaries of the samples: medians, ratios, targets, tables, RESULTS.md."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .measure import Sample
from .scenarios import Metric, Scenario, Target
from .systems import AGENTGEN, AUTOGEN, FLOOR, NATS, NATS_FLOOR

__all__ = [
    "SYSTEM_LABELS",
    "Results",
    "TargetOutcome",
    "cpu_table",
    "results_table",
    "target_outcomes",
]

SYSTEM_LABELS = {
    AGENTGEN: "agentgen",
    AUTOGEN: "AutoGen 0.7.5",
    FLOOR: "relay floor",
    NATS: "agentgen on NATS",
    NATS_FLOOR: "NATS floor",
}
COLUMNS = (AGENTGEN, AUTOGEN, FLOOR, NATS, NATS_FLOOR)
COMPARISONS = (
    (AGENTGEN, AUTOGEN),
    (AGENTGEN, FLOOR),
    (NATS, AUTOGEN),
    (NATS, NATS_FLOOR),
)
"""The ratio columns: (system, versus), the first's figure over the second's."""
_SHORT = {
    AGENTGEN: "agentgen",
    AUTOGEN: "AutoGen",
    FLOOR: "relay floor",
    NATS: "NATS",
    NATS_FLOOR: "NATS floor",
}

Samples = Mapping[str, Mapping[str, Sequence[Sample]]]
"""Samples by flow name, then by system key."""


@dataclass(frozen=True)
class Results:
    """Every sample of one run of the suite, and what was run."""

    scenarios: tuple[Scenario, ...]
    samples: Samples

    def values(self, scenario: Scenario, system: str, key: str) -> list[float]:
        """The figure ``key`` of every successful run of ``system``."""
        runs = self.samples.get(scenario.flow, {}).get(system, ())
        return [run.metrics[key] for run in runs if key in run.metrics]

    def median(self, scenario: Scenario, system: str, key: str) -> float | None:
        """The median of :meth:`values`, or ``None`` without a value."""
        found = self.values(scenario, system, key)
        return statistics.median(found) if found else None

    def ratio(
        self, scenario: Scenario, key: str, versus: str | None, system: str = AGENTGEN
    ) -> float | None:
        """``system``'s median over ``versus``'s (``None``: the median itself),
        or ``None`` if either is missing."""
        ours = self.median(scenario, system, key)
        if versus is None:
            return ours
        theirs = self.median(scenario, versus, key)
        if ours is None or not theirs:
            return None
        return ours / theirs

    def cpu_medians(
        self, scenario: Scenario, system: str, phase: str
    ) -> dict[str, float]:
        """Median CPU µs per message of each process role in ``phase``."""
        by_role: dict[str, list[float]] = {}
        for run in self.samples.get(scenario.flow, {}).get(system, ()):
            for role, value in run.cpu_us.get(phase, {}).items():
                by_role.setdefault(role, []).append(value)
        return {role: statistics.median(values) for role, values in by_role.items()}

    def errors(self) -> list[str]:
        """Every failed run, as ``flow/system: reason``."""
        return [
            f"{flow}/{system}: {run.error}"
            for flow, by_system in self.samples.items()
            for system, runs in by_system.items()
            for run in runs
            if run.error
        ]

    def foreign_cores(self) -> list[float]:
        """The foreign load of every measured window."""
        return [
            value
            for by_system in self.samples.values()
            for runs in by_system.values()
            for run in runs
            for value in run.foreign_cores
        ]

    def run_counts(self, scenario: Scenario, system: str) -> tuple[int, int]:
        """(successful, total) runs of ``system`` in ``scenario``'s flow."""
        runs = self.samples.get(scenario.flow, {}).get(system, ())
        return sum(1 for run in runs if run.error is None), len(runs)


def _number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [_row(header), _row(["---"] * len(header))]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _compared(scenario: Scenario, system: str, versus: str) -> bool:
    return system in scenario.systems and versus in scenario.systems


def _metric_row(results: Results, scenario: Scenario, metric: Metric) -> list[str]:
    cells = [str(scenario.number), f"{metric.label} ({metric.unit})"]
    for system in COLUMNS:
        if system in scenario.systems:
            value = results.median(scenario, system, metric.key)
            cells.append(_number(value, metric.digits))
        else:
            cells.append("n/a")
    for system, versus in COMPARISONS:
        if _compared(scenario, system, versus):
            cells.append(_ratio(results.ratio(scenario, metric.key, versus, system)))
        else:
            cells.append("n/a")
    return cells


def results_table(results: Results) -> str:
    """Medians per system and the ratios of :data:`COMPARISONS`, one row per figure."""
    header = [
        "#",
        "figure",
        *(SYSTEM_LABELS[system] for system in COLUMNS),
        *(f"{_SHORT[system]} / {_SHORT[versus]}" for system, versus in COMPARISONS),
    ]
    rows = [
        _metric_row(results, scenario, metric)
        for scenario in results.scenarios
        for metric in scenario.metrics
    ]
    return _table(header, rows)


def _cpu_cell(medians: Mapping[str, float]) -> str:
    if not medians:
        return "-"
    return " · ".join(f"{role} {value:,.0f}" for role, value in medians.items())


def _cpu_ratio(
    results: Results, scenario: Scenario, phase: str, system: str, versus: str
) -> str:
    """``versus``'s total CPU per message over ``system``'s (above 1: it uses less)."""
    if not _compared(scenario, system, versus):
        return "n/a"
    ours = sum(results.cpu_medians(scenario, system, phase).values())
    theirs = sum(results.cpu_medians(scenario, versus, phase).values())
    return _ratio(theirs / ours) if ours and theirs else "-"


def cpu_table(results: Results) -> str:
    """CPU µs per message of each process, per system, per measured phase.

    The last columns compare the total over all processes, for each pair of
    :data:`COMPARISONS`: the second system's CPU per message over the first's.
    """
    header = [
        "#",
        "phase",
        *(SYSTEM_LABELS[system] for system in COLUMNS),
        *(
            f"{_SHORT[versus]} / {_SHORT[system]} total CPU"
            for system, versus in COMPARISONS
        ),
    ]
    rows: list[list[str]] = []
    for scenario in results.scenarios:
        for metric in scenario.metrics:
            phase = metric.cpu_phase
            if phase is None:
                continue
            cells = [str(scenario.number), metric.label]
            for system in COLUMNS:
                if system in scenario.systems:
                    cells.append(
                        _cpu_cell(results.cpu_medians(scenario, system, phase))
                    )
                else:
                    cells.append("n/a")
            cells += [
                _cpu_ratio(results, scenario, phase, system, versus)
                for system, versus in COMPARISONS
            ]
            rows.append(cells)
    return _table(header, rows)


@dataclass(frozen=True)
class TargetOutcome:
    """One target of the issue against the measured ratio."""

    scenario: Scenario
    target: Target
    measured: float | None
    higher_is_better: bool

    @property
    def met(self) -> bool:
        """Whether the target was reached."""
        return self.measured is not None and self.target.met(
            self.measured, self.higher_is_better
        )

    def describe(self) -> str:
        """``met`` or ``missed`` with the measured ratio and the gap."""
        if self.measured is None:
            return "not measured"
        if self.met:
            return f"met ({_ratio(self.measured)})"
        reached = (
            self.measured / self.target.ratio
            if self.higher_is_better
            else self.target.ratio / self.measured
        )
        return (
            f"missed: {_ratio(self.measured)} where {_ratio(self.target.ratio)} "
            f"is needed ({reached:.0%} of the target)"
        )


def target_outcomes(results: Results) -> list[TargetOutcome]:
    """Every target of the selected scenarios, met or not."""
    outcomes: list[TargetOutcome] = []
    for scenario in results.scenarios:
        metrics = {metric.key: metric for metric in scenario.metrics}
        for target in scenario.targets:
            measured = results.ratio(
                scenario, target.metric, target.versus, target.system
            )
            higher = metrics[target.metric].higher_is_better
            outcomes.append(TargetOutcome(scenario, target, measured, higher))
    return outcomes
