"""The benchmark suite still runs: every scenario, every system, tiny counts.

Runs ``bench``'s real runner with ``--quick`` counts for one round: real
agentgen, AutoGen 0.7.5 (from the cached venv), relay-floor, agentgen on NATS
and NATS-floor processes (and nats-servers) on 127.0.0.1. It checks that each
scenario produced a positive figure for every metric on every system it
compares, that no run failed, and that the tables and the results file name
every scenario.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.report import SYSTEM_LABELS, results_table, target_outcomes
from bench.results_doc import NOTES_MARKER, RunInfo, write_results
from bench.run import Options, run_suite
from bench.scenarios import SCENARIOS

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300)]

SKIP_VARIABLE = "AGENTGEN_SKIP_INTEROP"


@pytest.fixture(autouse=True)
def _skip_without_autogen() -> None:
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"needs the AutoGen venv; {SKIP_VARIABLE}=1")


async def test_every_scenario_yields_figures_for_every_system(tmp_path: Path) -> None:
    progress: list[str] = []
    options = Options(rounds=1, quick=True, output=None, log_dir=tmp_path / "logs")

    results, systems = await run_suite(options, progress.append)

    assert results.errors() == []
    assert set(systems) == set(SYSTEM_LABELS)
    assert {scenario.number for scenario in results.scenarios} == {
        scenario.number for scenario in SCENARIOS
    }
    missing = [
        f"scenario {scenario.number} {metric.key} on {system}"
        for scenario in results.scenarios
        for metric in scenario.metrics
        for system in scenario.systems
        if not [
            value for value in results.values(scenario, system, metric.key) if value > 0
        ]
    ]
    assert missing == []
    no_cpu = [
        f"scenario {scenario.number} {metric.cpu_phase} on {system}"
        for scenario in results.scenarios
        for metric in scenario.metrics
        if metric.cpu_phase is not None
        for system in scenario.systems
        if not results.cpu_medians(scenario, system, metric.cpu_phase)
    ]
    assert no_cpu == []
    assert all(outcome.measured is not None for outcome in target_outcomes(results))
    assert len(progress) == sum(
        len(by_system) for by_system in results.samples.values()
    )

    table = results_table(results)
    for scenario in results.scenarios:
        assert f"| {scenario.number} |" in table

    output = tmp_path / "RESULTS.md"
    output.write_text(f"old table\n{NOTES_MARKER}\nhand-written notes\n")
    write_results(output, results, RunInfo.collect(1, True, 1.0, systems))
    written = output.read_text()
    assert "old table" not in written
    assert written.endswith(f"{NOTES_MARKER}\nhand-written notes\n")
    for outcome in target_outcomes(results):
        assert outcome.target.text in written
