"""``buf generate`` with the documented ``examples/hello/buf.gen.yaml``.

buf runs protoc-gen-agentgen as a local plugin. Its ``_agents.py`` and ``.pyi``
must be identical to ``agentgen generate``'s; ``_pb2.py`` differs only in the
``json_name`` buf records in the embedded descriptor, so the descriptors are
compared without it, as loaded by importing the generated modules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from google.protobuf.descriptor_pb2 import FileDescriptorProto

from .buf_tool import ensure_buf

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello"
TIMEOUT = 180


_DUMP_DESCRIPTOR = (
    "import sys, hello_agents, hello_pb2; "
    "sys.stdout.buffer.write(hello_pb2.DESCRIPTOR.serialized_pb)"
)


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> bytes:
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, timeout=TIMEOUT
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def imported_descriptor(folder: Path, env: dict[str, str]) -> FileDescriptorProto:
    """hello.proto's descriptor as the generated modules in ``folder`` load it,
    without json_name (which buf fills in and protoc leaves out)."""
    serialized = _run(
        [sys.executable, "-c", _DUMP_DESCRIPTOR],
        folder,
        {**env, "PYTHONPATH": str(folder)},
    )
    descriptor = FileDescriptorProto.FromString(serialized)
    for message in descriptor.message_type:
        for field in message.field:
            field.ClearField("json_name")
    return descriptor


def test_buf_generate_matches_agentgen_generate(tmp_path: Path) -> None:
    buf = ensure_buf()
    project = tmp_path / "hello"
    shutil.copytree(HELLO / "protos", project / "protos")
    for name in ("buf.yaml", "buf.gen.yaml"):
        shutil.copy(HELLO / name, project / name)
    # The venv's python and protoc-gen-agentgen first on PATH, as when activated.
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    agentgen = [sys.executable, "-m", "agentgen"]
    protos_path = _run([*agentgen, "protos-path"], project, env).decode().strip()
    (project / "build").mkdir()
    (project / "build" / "agentgen-protos").symlink_to(protos_path)

    _run([str(buf), "generate"], project, env)
    _run([*agentgen, "generate", "protos", "--out", "reference"], project, env)

    by_buf = project / "build" / "generated"
    reference = project / "reference"
    names = sorted(path.name for path in reference.iterdir())
    assert names == ["hello_agents.py", "hello_pb2.py", "hello_pb2.pyi"]
    assert sorted(path.name for path in by_buf.iterdir()) == names
    for name in ("hello_agents.py", "hello_pb2.pyi"):
        assert (by_buf / name).read_bytes() == (reference / name).read_bytes(), name
    assert imported_descriptor(by_buf, env) == imported_descriptor(reference, env)
