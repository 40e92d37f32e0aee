"""With tracing off, agentgen does not touch OpenTelemetry at all.

Each case runs ``quiet_child.py`` in a fresh interpreter: a publish and an
RPC in process, and the same through a gRPC host and worker.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agentgen.runtime.telemetry import DISABLE_TRACING_VARIABLE
from tests.support import REPO_ROOT
from tests.support.child_processes import child_environment

from .traced_processes import HERE

pytestmark = pytest.mark.timeout(120)


def run_child(mode: str, **environment: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, str(HERE / "quiet_child.py"), mode],
        capture_output=True,
        text=True,
        timeout=60,
        env={**child_environment([str(REPO_ROOT)]), **environment},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, object] = json.loads(completed.stdout.splitlines()[-1])
    return result


def test_no_opentelemetry_module_is_imported_when_the_app_sets_none_up() -> None:
    assert run_child("plain") == {"modules": []}


def test_autogen_disable_runtime_tracing_turns_spans_off() -> None:
    # The control: with the SDK set up, both runtimes make spans.
    assert run_child("sdk") != {"spans": 0}
    assert run_child("sdk", **{DISABLE_TRACING_VARIABLE: "true"}) == {"spans": 0}
