"""Experiment: CPU instructions per message, for A/B comparisons on noisy machines.

Wall-clock rates on a shared virtual machine can move by a third between two
runs of the same code; the instructions a message costs hardly move (about
0.3% here). This counts them with valgrind's cachegrind for three workloads
(``instruction_workloads.py``): an in-process publish, an in-process RPC, an
event through a gRPC host to one subscriber and to four, and a sequential
RPC through it (the host and its workers in one process).
Each workload runs twice, with ``COUNT`` messages and with none, and the
difference is divided by ``COUNT``: start-up, imports and connections cancel.

``python -m bench.experiments.instructions [--tree DIR ...] [--count N]``
prints one column per tree (default: this checkout) and each column's ratio
to the first. To measure an older commit: ``git worktree add /tmp/old REV``
and pass ``--tree /tmp/old --tree .``. Needs ``valgrind`` (Debian's package);
a run takes about 15 s per workload and tree under it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.gencode import compile_for_agentgen

HERE = Path(__file__).resolve().parent
WORKLOADS_SCRIPT = HERE / "instruction_workloads.py"
CHILDREN_DIR = HERE.parent / "children"
THIS_TREE = HERE.parent.parent
WORKLOADS = {
    "publish": "in-process publish",
    "rpc": "in-process RPC",
    "grpc": "event through a gRPC host",
    "grpc-fanout": "event through a gRPC host to 4 subscribers",
    "grpc-rpc": "sequential RPC through a gRPC host",
}
_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(tree: Path, gencode: Path, workload: str, count: int) -> int:
    """Instructions of one workload process with ``count`` messages."""
    path = os.pathsep.join([str(tree), str(gencode), str(CHILDREN_DIR)])
    completed = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            str(WORKLOADS_SCRIPT),
            workload,
            str(count),
        ],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    found = _TOTAL.search(completed.stderr)
    if completed.returncode != 0 or found is None:
        tail = "\n".join(completed.stderr.splitlines()[-15:])
        raise SystemExit(f"{workload} on {tree} failed:\n{tail}")
    return int(found.group(1).replace(",", ""))


def per_message(tree: Path, gencode: Path, workload: str, count: int) -> float:
    """Instructions one message costs: (run with ``count``, less run with 0) / count."""
    with_messages = instructions(tree, gencode, workload, count)
    without = instructions(tree, gencode, workload, 0)
    return (with_messages - without) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tree",
        action="append",
        type=Path,
        help="an agentgen checkout to measure (repeatable; default: this one)",
    )
    parser.add_argument("--count", type=int, default=20_000, help="messages per run")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"some of {','.join(WORKLOADS)}",
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: install it (apt-get install valgrind)")
    if args.count < 1:
        raise SystemExit("--count must be at least 1")
    trees = [tree.resolve() for tree in (args.tree or [THIS_TREE])]
    for tree in trees:
        if not (tree / "agentgen" / "runtime").is_dir():
            raise SystemExit(f"{tree}: not an agentgen checkout (no agentgen/runtime)")
    workloads = args.workloads.split(",")
    unknown = [name for name in workloads if name not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workloads: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="agentgen-instructions-") as work:
        gencode = compile_for_agentgen(Path(work) / "gencode")
        rows = [
            (name, [per_message(tree, gencode, name, args.count) for tree in trees])
            for name in workloads
        ]
    print(table(trees, rows))


def table(trees: list[Path], rows: list[tuple[str, list[float]]]) -> str:
    """A Markdown table: per workload, instructions per message by tree."""
    header = ["workload", *(str(tree) for tree in trees)]
    header += [f"{tree.name} / {trees[0].name}" for tree in trees[1:]]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for name, values in rows:
        cells = [WORKLOADS[name], *(f"{value:,.0f}" for value in values)]
        cells += [f"{value / values[0]:.3f}" for value in values[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
