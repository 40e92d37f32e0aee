"""Run the benchmark suite: every scenario on agentgen, AutoGen and the floors.

``python -m bench [--rounds N] [--scenarios 1,3,...] [--quick] [--output PATH]``

Within each round the flows run one after the other, and each flow runs on
every system in turn (agentgen, AutoGen, relay floor, agentgen on NATS, NATS
floor: A, B, C, D, E, A, B, ...), each time in fresh processes. The table
of medians is printed and written, with the machine, versions and foreign
load, to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .flows import FLOWS, QUICK_COUNTS, Counts, FlowContext
from .gencode import GencodeError, compile_for_agentgen, compile_for_autogen
from .measure import Sample
from .procs import ChildFailedError
from .report import SYSTEM_LABELS, Results, cpu_table, results_table
from .results_doc import RunInfo, write_results
from .scenarios import Scenario, select
from .shared import autogen_env
from .systems import (
    AGENTGEN,
    AGENTGEN_PACKAGE_DIR,
    AUTOGEN,
    CHILDREN_DIR,
    FLOOR,
    NATS,
    NATS_FLOOR,
    System,
    agentgen_socket_engine,
    current_python,
    precompile,
)

__all__ = ["DEFAULT_OUTPUT", "Options", "autogen_python", "main", "run_suite"]

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUTPUT = BENCH_DIR / "RESULTS.md"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """What to run and where to write it."""

    rounds: int = 3
    scenarios: tuple[int, ...] | None = None
    quick: bool = False
    output: Path | None = DEFAULT_OUTPUT
    log_dir: Path | None = None
    """Where children's stderr goes (default: a temporary directory)."""
    systems: tuple[str, ...] | None = None
    """Run only these systems (default: all)."""

    @property
    def counts(self) -> Counts:
        """The message counts of this run."""
        return QUICK_COUNTS if self.quick else Counts()


def autogen_python() -> Path:
    """The AutoGen 0.7.5 venv's Python, shared with the interop tests."""
    return autogen_env.ensure_autogen_venv()


def prepare_systems(work_dir: Path, needed: set[str]) -> dict[str, System]:
    """Compile the contract for each needed system; describe how to run it."""
    ours = current_python()
    agentgen_code = compile_for_agentgen(work_dir / "gencode-agentgen")
    precompile(ours, agentgen_code, AGENTGEN_PACKAGE_DIR, CHILDREN_DIR)
    systems = {
        AGENTGEN: System.make(
            AGENTGEN,
            "agentgen",
            ours,
            agentgen_code,
            "agentgen",
            shared_type_host_args=("--type-sharing=by-key",),
        ),
        FLOOR: System.make(
            FLOOR,
            "relay floor",
            ours,
            agentgen_code,
            "relay",
            has_inprocess=False,
            extra_env=agentgen_socket_engine(),
        ),
    }
    if needed & {NATS, NATS_FLOOR}:
        # nats_host.py serves both; the floor's workers are nats_floor.py.
        systems[NATS] = System.make(
            NATS, "agentgen on NATS", ours, agentgen_code, "nats", has_inprocess=False
        )
        systems[NATS_FLOOR] = System.make(
            NATS_FLOOR,
            "NATS floor",
            ours,
            agentgen_code,
            "nats",
            has_inprocess=False,
            programs={"worker": "nats_floor"},
        )
    if AUTOGEN in needed:
        theirs = autogen_python()
        autogen_code = compile_for_autogen(theirs, work_dir / "gencode-autogen")
        precompile(theirs, autogen_code, CHILDREN_DIR)
        systems[AUTOGEN] = System.make(
            AUTOGEN, "AutoGen 0.7.5", theirs, autogen_code, "autogen"
        )
    return systems


def plan(
    scenarios: Sequence[Scenario], only: Sequence[str] | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """Each flow the scenarios need, once, with the systems it runs on."""
    flows: dict[str, list[str]] = {}
    for scenario in scenarios:
        systems = flows.setdefault(scenario.flow, [])
        systems += [
            key
            for key in scenario.systems
            if key not in systems and (only is None or key in only)
        ]
    return [(flow, tuple(systems)) for flow, systems in flows.items() if systems]


def _summary(sample: Sample) -> str:
    if sample.error:
        return "FAILED: " + sample.error.splitlines()[0]
    return ", ".join(
        f"{key} {value:,.0f}" if value >= 100 else f"{key} {value:.3g}"
        for key, value in list(sample.metrics.items())[:3]
    )


async def run_suite(
    options: Options, progress: Progress
) -> tuple[Results, dict[str, System]]:
    """Run every selected scenario ``options.rounds`` times.

    Returns the samples and the systems they ran on.
    """
    scenarios = select(list(options.scenarios) if options.scenarios else None)
    flows = plan(scenarios, options.systems)
    samples: dict[str, dict[str, list[Sample]]] = {
        flow: {system: [] for system in systems} for flow, systems in flows
    }
    with tempfile.TemporaryDirectory(prefix="agentgen-bench-") as temporary:
        work_dir = Path(temporary)
        log_dir = options.log_dir or work_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        needed = {system for _, systems in flows for system in systems}
        systems = prepare_systems(work_dir, needed)
        context = FlowContext(options.counts, work_dir, log_dir)
        for round_number in range(1, options.rounds + 1):
            for flow, flow_systems in flows:
                for key in flow_systems:
                    started = time.monotonic()
                    try:
                        sample = await FLOWS[flow](context, systems[key])
                    except ChildFailedError as error:
                        sample = Sample(error=str(error))
                    samples[flow][key].append(sample)
                    progress(
                        f"[round {round_number}/{options.rounds}] {flow} on "
                        f"{SYSTEM_LABELS[key]}: {_summary(sample)} "
                        f"({time.monotonic() - started:.1f} s)"
                    )
    return Results(scenarios, samples), systems


def _scenario_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected scenario numbers like 1,3,5, got {text!r}"
        ) from None


def _system_list(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [key for key in chosen if key not in SYSTEM_LABELS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"expected some of {','.join(SYSTEM_LABELS)}, got {text!r}"
        )
    return chosen


def parse_options(argv: Sequence[str] | None) -> Options:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument(
        "--scenarios", type=_scenario_list, help="e.g. 1,3,5 (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="small message counts")
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="results file (default bench/RESULTS.md)",
    )
    parser.add_argument("--no-output", action="store_true", help="only print")
    parser.add_argument("--log-dir", type=Path, help="keep children's stderr here")
    parser.add_argument(
        "--systems",
        type=_system_list,
        help=f"only these of {','.join(SYSTEM_LABELS)} (default: all)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        select(list(args.scenarios) if args.scenarios else None)
    except ValueError as error:
        parser.error(str(error))
    return Options(
        rounds=args.rounds,
        scenarios=args.scenarios,
        quick=args.quick,
        output=None if args.no_output else args.output,
        log_dir=args.log_dir,
        systems=args.systems,
    )


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite, print the tables, write the results file."""
    options = parse_options(argv)
    started = time.monotonic()
    try:
        results, systems = asyncio.run(run_suite(options, _progress))
    except GencodeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    duration = time.monotonic() - started
    print(results_table(results))
    print()
    print("CPU µs per message per process (medians):")
    print(cpu_table(results))
    for failure in results.errors():
        print(f"\nFAILED {failure}", file=sys.stderr)
    if options.output is not None:
        info = RunInfo.collect(options.rounds, options.quick, duration, systems)
        write_results(options.output, results, info)
        print(f"\nwritten to {options.output}")
    return 1 if results.errors() else 0
