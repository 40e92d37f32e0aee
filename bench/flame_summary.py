"""Summarise ``py-spy record --format raw`` files: where each process spends time.

``python -m bench.flame_summary DIR_OR_FILE... [--top N]`` prints, for each
file (one process, as written with ``AGENTGEN_BENCH_PYSPY=DIR``), the share
of samples per function as the innermost frame ("self") and anywhere on the
stack ("inclusive"). Import-time frames are left out, since the runs of
interest are the measured phases.
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FlameSummary", "main", "summarise"]

_STARTUP_MARKERS = ("<frozen importlib",)


@dataclass(frozen=True)
class FlameSummary:
    """Sample counts of one process."""

    total: int
    self_samples: collections.Counter[str]
    inclusive: collections.Counter[str]

    def lines(self, top: int) -> list[str]:
        """The ``top`` functions by self and by inclusive share, as text."""
        out = [f"{self.total} samples", "self:"]
        for name, count in self.self_samples.most_common(top):
            out.append(f"  {100 * count / self.total:5.1f}%  {name}")
        out.append("inclusive:")
        for name, count in self.inclusive.most_common(top):
            out.append(f"  {100 * count / self.total:5.1f}%  {name}")
        return out


def summarise(lines: Iterable[str]) -> FlameSummary:
    """Count samples per frame from raw py-spy lines (``a;b;c COUNT``)."""
    self_samples: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        if any(marker in frame for frame in frames for marker in _STARTUP_MARKERS):
            continue
        count = int(count_text)
        total += count
        self_samples[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return FlameSummary(total, self_samples, inclusive)


def _files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found += sorted(path.glob("*.txt")) if path.is_dir() else [path]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Print a summary of each py-spy raw file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    for path in _files(args.paths):
        with path.open(encoding="utf-8", errors="replace") as raw:
            summary = summarise(raw)
        print(f"== {path.name}: " + "\n".join(summary.lines(args.top)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
