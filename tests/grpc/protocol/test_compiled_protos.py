"""The committed compiled modules match what scripts/compile_protos.py produces now."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "compile_protos.py"

# Lines that only name the generator's version: a newer grpcio-tools in a fresh
# venv changes them without the modules being stale.
_GENERATOR_VERSION = (
    (re.compile(r"^# Protobuf Python Version: .*$", re.MULTILINE), "# version"),
    (
        re.compile(
            r"(ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,)"
            r"\s*\d+,\s*\d+,\s*\d+,\s*'[^']*',"
        ),
        r"\1 version,",
    ),
    (re.compile(r"^GRPC_GENERATED_VERSION = .*$", re.MULTILINE), "GRPC_VERSION"),
)


def _normalized(module: Path) -> str:
    text = module.read_text(encoding="utf-8")
    for pattern, replacement in _GENERATOR_VERSION:
        text = pattern.sub(replacement, text)
    return text


@pytest.mark.timeout(60)
def test_committed_modules_match_a_fresh_compile(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = [Path(line) for line in result.stdout.split()]
    assert len(written) == 7
    stale = [
        str(path.relative_to(tmp_path))
        for path in written
        if _normalized(path) != _normalized(REPO_ROOT / path.relative_to(tmp_path))
    ]
    assert not stale, f"run `python scripts/compile_protos.py` to refresh {stale}"


def test_the_version_normalization_leaves_content_alone() -> None:
    module = REPO_ROOT / "agentgen" / "protos" / "agent_worker_pb2.py"
    normalized = _normalized(module)
    assert "ValidateProtobufRuntimeVersion(" in normalized
    assert "# version" in normalized
    assert "AddSerializedFile(" in normalized  # the descriptor is still compared


def test_wire_modules_import_each_other_through_the_package() -> None:
    from agentgen.protos import agent_worker_pb2, agent_worker_pb2_grpc

    assert agent_worker_pb2.DESCRIPTOR.name == "agent_worker.proto"
    assert agent_worker_pb2.DESCRIPTOR.dependencies[0].name == "cloudevent.proto"
    assert vars(agent_worker_pb2_grpc)["agent__worker__pb2"] is agent_worker_pb2
    event_field = agent_worker_pb2.Message.DESCRIPTOR.fields_by_name["cloudEvent"]
    assert event_field.message_type is not None
    assert event_field.message_type.full_name == "io.cloudevents.v1.CloudEvent"
