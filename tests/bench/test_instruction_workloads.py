"""The instruction-count experiment's workloads run on this checkout.

``bench/experiments/instructions.py`` runs them under valgrind (not part of
the test set-up); here each runs directly, with a small count, in its own
process with the path the experiment gives it, and reports every message
delivered.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.experiments.instructions import (
    CHILDREN_DIR,
    THIS_TREE,
    WORKLOADS,
    WORKLOADS_SCRIPT,
    table,
)
from bench.gencode import compile_for_agentgen

COUNT = 40


@pytest.fixture(scope="module")
def gencode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_for_agentgen(tmp_path_factory.mktemp("gencode"))


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_each_workload_delivers_every_message(gencode: Path, workload: str) -> None:
    path = os.pathsep.join([str(THIS_TREE), str(gencode), str(CHILDREN_DIR)])
    completed = subprocess.run(
        [sys.executable, str(WORKLOADS_SCRIPT), workload, str(COUNT)],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["delivered", str(COUNT)]


def test_the_table_gives_each_tree_a_column_and_a_ratio_to_the_first() -> None:
    rendered = table([Path("/a/old"), Path("/b/new")], [("publish", [200.0, 150.0])])
    assert rendered.splitlines() == [
        "| workload | /a/old | /b/new | new / old |",
        "| --- | --- | --- | --- |",
        "| in-process publish | 200 | 150 | 0.750 |",
    ]
