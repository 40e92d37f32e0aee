"""``bench/RESULTS.md``: the last run's tables, targets and circumstances.

Everything above the notes marker is rewritten by each run; the notes below
it (hand-written analysis of the figures) are kept.
"""

from __future__ import annotations

import datetime
import statistics
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .machine import MachineInfo, PythonInfo, machine_info, python_info
from .report import SYSTEM_LABELS, Results, cpu_table, results_table, target_outcomes
from .systems import AGENTGEN, AUTOGEN, System

__all__ = ["NOTES_MARKER", "RunInfo", "render_results", "write_results"]

NOTES_MARKER = "<!-- notes below are kept when the benchmark rewrites this file -->"


@dataclass(frozen=True)
class RunInfo:
    """The circumstances of one run."""

    date: str
    rounds: int
    quick: bool
    duration_s: float
    machine: MachineInfo
    pythons: Mapping[str, PythonInfo]
    """Versions in each venv, by system key (the floor shares agentgen's)."""
    revision: str
    """The git commit measured, marked when the tree had uncommitted changes."""

    @classmethod
    def collect(
        cls,
        rounds: int,
        quick: bool,
        duration_s: float,
        systems: Mapping[str, System],
    ) -> RunInfo:
        """Read the date, machine and versions now."""
        pythons = {
            key: python_info(system.python)
            for key, system in systems.items()
            if key in (AGENTGEN, AUTOGEN)
        }
        return cls(
            datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            rounds,
            quick,
            duration_s,
            machine_info(),
            pythons,
            _revision(),
        )


def _git(*args: str) -> str:
    completed = subprocess.run(
        ["git", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=Path(__file__).resolve().parent,
    )
    return completed.stdout.strip() if completed.returncode == 0 else ""


def _revision() -> str:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit} with uncommitted changes" if dirty else commit


def _foreign_load(results: Results) -> str:
    values = results.foreign_cores()
    if not values:
        return "not measured"
    return (
        f"median {statistics.median(values):.2f} cores "
        f"(range {min(values):.2f}-{max(values):.2f} over {len(values)} "
        "measured windows)"
    )


def render_results(results: Results, info: RunInfo) -> str:
    """The generated part of RESULTS.md."""
    command = "python -m bench" + (" --quick" if info.quick else "")
    command += f" --rounds {info.rounds}"
    lines = [
        "# Benchmark results: agentgen (gRPC host, NATS) vs AutoGen 0.7.5 vs "
        "their floors (a bare grpc.aio relay, raw nats-py)",
        "",
        f"Last run: {info.date}, `{command}` "
        f"({'small counts' if info.quick else 'the issue counts'}), "
        f"{info.duration_s / 60:.1f} min.",
        "",
        f"* Code: agentgen at commit {info.revision}.",
        f"* Machine: {info.machine.describe()}.",
        *(
            f"* {SYSTEM_LABELS[key]} venv: {python.describe()}."
            for key, python in info.pythons.items()
        ),
        f"* Foreign CPU load during the measurements (machine busy CPU minus the "
        f"benchmark processes' own): {_foreign_load(results)}.",
        "",
        f"## Medians of {info.rounds} rounds",
        "",
        "Throughput is measured at the receiver; a ratio column is the first "
        "system's median over the second's. On NATS the host column is the "
        "nats-server (its CPU and memory). Every process of a run shares the "
        f"machine's {info.machine.cores} cores: publisher, host or server, and "
        "workers.",
        "",
        results_table(results),
        "",
        "## CPU µs per message, per process (medians)",
        "",
        "Each process's own CPU time over the measured phase, divided by the "
        "messages (or calls) of that phase; steadier than wall time on a shared "
        "machine.",
        "",
        cpu_table(results),
        "",
        "## Targets of the issue",
        "",
        "| # | target | outcome |",
        "| --- | --- | --- |",
        *(
            f"| {outcome.scenario.number} | {outcome.target.text} | "
            f"{outcome.describe()} |"
            for outcome in target_outcomes(results)
        ),
    ]
    failures = results.errors()
    if failures:
        lines += ["", "## Failed runs", ""]
        lines += [f"* {failure.splitlines()[0]}" for failure in failures]
    return "\n".join(lines) + "\n"


def _kept_notes(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_text(encoding="utf-8")
    _, marker, notes = text.partition(NOTES_MARKER)
    return notes if marker else ""


def write_results(path: Path, results: Results, info: RunInfo) -> None:
    """Write RESULTS.md, keeping the notes of the previous file."""
    notes = _kept_notes(path)
    text = render_results(results, info) + "\n" + NOTES_MARKER + (notes or "\n")
    path.write_text(text, encoding="utf-8")
