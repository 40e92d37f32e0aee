"""The committed compiled modules match what scripts/compile_protos.py produces now."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "compile_protos.py"

# What only the generator's version changes: the version header; and in
# agent_worker_pb2_grpc.py, grpcio-tools 1.70's ``class X(object):`` and an
# ``f`` prefix on a string without fields.
_GENERATOR_VERSION = (
    (re.compile(r"^# Protobuf Python Version: .*$", re.MULTILINE), "# version"),
    (re.compile(r"^(class \w+)\(object\):$", re.MULTILINE), r"\1:"),
    (re.compile(r"\+ f' but the generated code"), "+ ' but the generated code"),
)
_HEADER_VERSION = re.compile(r"^# Protobuf Python Version: (.*)$", re.MULTILINE)


def _normalized(module: Path) -> str:
    text = module.read_text(encoding="utf-8")
    for pattern, replacement in _GENERATOR_VERSION:
        text = pattern.sub(replacement, text)
    return text


def _protoc_version(module: Path) -> str:
    found = _HEADER_VERSION.search(module.read_text(encoding="utf-8"))
    assert found is not None, f"{module} has no version header"
    return found.group(1)


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
    committed = REPO_ROOT / "agentgen" / "options_pb2.py"
    fresh = tmp_path / "agentgen" / "options_pb2.py"
    same_protoc = _protoc_version(committed) == _protoc_version(fresh)
    # protoc's .pyi layout changes between its versions: stubs are compared
    # only when the same protoc wrote both (the Python modules always are).
    compared = [path for path in written if path.suffix == ".py" or same_protoc]
    assert len(compared) >= 4
    stale = [
        str(path.relative_to(tmp_path))
        for path in compared
        if _normalized(path) != _normalized(REPO_ROOT / path.relative_to(tmp_path))
    ]
    assert not stale, f"run `python scripts/compile_protos.py` to refresh {stale}"


def test_compiled_modules_load_on_any_runtime_and_grpcio_floor() -> None:
    for name in ("agentgen/options_pb2.py", "agentgen/protos/agent_worker_pb2.py"):
        text = (REPO_ROOT / name).read_text(encoding="utf-8")
        assert "runtime_version" not in text, name
        assert "AddSerializedFile(" in text, name
    grpc_module = REPO_ROOT / "agentgen" / "protos" / "agent_worker_pb2_grpc.py"
    floor = re.search(r'"grpcio>=([^"]+)"', (REPO_ROOT / "pyproject.toml").read_text())
    assert floor is not None
    assert f"GRPC_GENERATED_VERSION = '{floor.group(1)}'" in grpc_module.read_text()


def test_wire_modules_import_each_other_through_the_package() -> None:
    from agentgen.protos import agent_worker_pb2, agent_worker_pb2_grpc

    assert agent_worker_pb2.DESCRIPTOR.name == "agent_worker.proto"
    assert agent_worker_pb2.DESCRIPTOR.dependencies[0].name == "cloudevent.proto"
    assert vars(agent_worker_pb2_grpc)["agent__worker__pb2"] is agent_worker_pb2
    event_field = agent_worker_pb2.Message.DESCRIPTOR.fields_by_name["cloudEvent"]
    assert event_field.message_type is not None
    assert event_field.message_type.full_name == "io.cloudevents.v1.CloudEvent"
