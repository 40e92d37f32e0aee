"""agentgen's compiled modules load, without a warning, on every protobuf major.

Each protobuf is installed (from pip's cache after the first run) into a
folder put first on ``PYTHONPATH`` of a fresh interpreter, which imports the
modules with warnings as errors, on protobuf's C (upb) and pure-Python
implementations. 6.30 is there because it warns about gencode of the previous
major; the floor, 5.29.0, is the oldest runtime pyproject.toml allows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

PROTOBUFS = ("protobuf==5.29.0", "protobuf==6.30.0", "protobuf>=7")
INSTALL_TIMEOUT = 300
_PROBE = """
import json
from google.protobuf import __version__
from google.protobuf.internal import api_implementation
from agentgen import options_pb2
from agentgen.protos import agent_worker_pb2, agent_worker_pb2_grpc, cloudevent_pb2

event = cloudevent_pb2.CloudEvent(id="1", source="s", type="t", text_data="hi")
frame = agent_worker_pb2.Message(cloudEvent=event)
assert agent_worker_pb2.Message.FromString(frame.SerializeToString()) == frame
assert options_pb2.topic.number == 51001
assert agent_worker_pb2_grpc.AgentRpcStub.__name__ == "AgentRpcStub"
print(json.dumps([__version__, api_implementation.Type()]))
"""


@pytest.fixture(scope="module", params=PROTOBUFS)
def protobuf_folder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A folder holding only the requested protobuf."""
    folder = tmp_path_factory.mktemp("protobuf")
    requirement: str = request.param
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--target",
            str(folder),
            requirement,
        ],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return folder


@pytest.mark.parametrize("implementation", ["upb", "python"])
def test_compiled_modules_load_without_warnings(
    protobuf_folder: Path, implementation: str
) -> None:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(protobuf_folder), str(REPO_ROOT)]),
        "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION": implementation,
    }
    environment.pop("TEMPORARILY_DISABLE_PROTOBUF_VERSION_CHECK", None)
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", _PROBE],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    version, used = json.loads(completed.stdout)
    installed = next(protobuf_folder.glob("protobuf-*.dist-info")).name
    assert installed == f"protobuf-{version}.dist-info"
    assert used == implementation
