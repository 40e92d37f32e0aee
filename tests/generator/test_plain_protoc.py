"""The plugin under a plain ``protoc`` binary gives exactly the golden output.

CI installs Debian's ``protoc`` (see ``.ci/run``); elsewhere the test is skipped
when no ``protoc`` is on PATH. Debian's protoc 3.21 predates editions, so the
editions contract of the golden set is left out.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path

import pytest

from tests.support.protoc import proto_files, run_protoc

from .golden import EXPECTED_DIR, PROTO_ROOT, agents_modules

EDITIONS_MARKER = 'edition = "'


def _plain_protoc() -> str:
    found = shutil.which("protoc")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no protoc on PATH in CI: .ci/run should have installed it")
        pytest.skip("no protoc binary on PATH (apt-get install protobuf-compiler)")
    return found


def test_plain_protoc_runs_the_plugin_to_the_golden_output(tmp_path: Path) -> None:
    protoc = _plain_protoc()
    # grpc_tools ships the well-known types; plain protoc may not find its own.
    well_known = resources.files("grpc_tools").joinpath("_proto")
    contracts = [
        name
        for name in proto_files(PROTO_ROOT)
        if EDITIONS_MARKER not in (PROTO_ROOT / name).read_text(encoding="utf-8")
    ]
    # protoc's module names: "kitchen-sink.proto" -> "kitchen_sink_agents.py"
    expected_names = {
        name.removesuffix(".proto").replace("-", "_") + "_agents.py"
        for name in contracts
    }
    completed = run_protoc(
        PROTO_ROOT,
        contracts,
        tmp_path,
        pyi=False,
        protoc=(protoc,),
        extra_args=(f"-I{well_known}",),
    )

    assert completed.returncode == 0, completed.stderr
    generated = agents_modules(tmp_path)
    expected = agents_modules(EXPECTED_DIR)
    assert set(generated) == expected_names
    assert generated == {name: expected[name] for name in expected_names}
