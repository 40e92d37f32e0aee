"""agentgen's wire descriptors against the ones autogen-ext 0.7.5 ships.

The descriptors of ``agent_worker.proto`` and ``cloudevent.proto`` are dumped
by the AutoGen venv (``peers/descriptor_probe.py``) and compared with
``agentgen.protos`` message by message and field by field. The probe also adds
ours to the descriptor pool that already holds autogen-ext's modules, which
only works when both agree (reference section 1.5).
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from google.protobuf.descriptor_pb2 import FileDescriptorProto

from agentgen.protos import agent_worker_pb2, cloudevent_pb2

from .descriptor_diff import diff_files
from .peer_process import PEERS_DIR

PROBE_TIMEOUT_SECONDS = 60.0
WIRE_MODULES: tuple[ModuleType, ...] = (cloudevent_pb2, agent_worker_pb2)
ALTERED = "agent_worker.proto with RpcRequest.target renumbered"


def _file_proto(module: ModuleType) -> FileDescriptorProto:
    proto = FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)
    return proto


def _altered_agent_worker() -> FileDescriptorProto:
    """Ours with one field number changed: the pool must refuse it."""
    proto = _file_proto(agent_worker_pb2)
    request = next(m for m in proto.message_type if m.name == "RpcRequest")
    next(f for f in request.field if f.name == "target").number = 99
    return proto


def _encode(proto: FileDescriptorProto) -> str:
    return base64.b64encode(proto.SerializeToString()).decode("ascii")


@pytest.fixture(scope="module")
def probe(autogen_python: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """What the AutoGen venv reports: its descriptors and the pool checks."""
    candidates = {
        proto.name: _encode(proto) for proto in map(_file_proto, WIRE_MODULES)
    }
    candidates[ALTERED] = _encode(_altered_agent_worker())
    completed = subprocess.run(
        [str(autogen_python), str(PEERS_DIR / "descriptor_probe.py")],
        input=json.dumps({"ours": candidates}),
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_SECONDS,
        check=False,
        cwd=tmp_path_factory.mktemp("probe"),
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def _autogen_file(probe: Any, name: str) -> FileDescriptorProto:
    return FileDescriptorProto.FromString(base64.b64decode(probe["autogen"][name]))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("module", WIRE_MODULES, ids=lambda m: m.DESCRIPTOR.name)
def test_descriptor_matches_autogen_ext(probe: Any, module: ModuleType) -> None:
    ours = _file_proto(module)
    differences = diff_files(
        _autogen_file(probe, ours.name),
        ours,
        expected_label="autogen-ext",
        actual_label="agentgen",
    )
    assert not differences, "\n".join(differences)
    assert ours.name in ("agent_worker.proto", "cloudevent.proto")


@pytest.mark.timeout(120)
def test_our_descriptors_share_a_pool_with_autogen_ext(probe: Any) -> None:
    assert probe["coexist"]["cloudevent.proto"] == "ok"
    assert probe["coexist"]["agent_worker.proto"] == "ok"
    # The control: a descriptor that disagrees is refused by the same pool.
    assert probe["coexist"][ALTERED] != "ok"


@pytest.mark.timeout(120)
def test_diff_reports_each_kind_of_difference(probe: Any) -> None:
    """The comparison itself: every altered aspect shows up, by path."""
    autogen = _autogen_file(probe, "agent_worker.proto")
    altered = FileDescriptorProto()
    altered.CopyFrom(autogen)
    messages = {message.name: message for message in altered.message_type}
    request = messages["RpcRequest"]
    fields = {field.name: field for field in request.field}
    fields["target"].number = 99
    fields["source"].proto3_optional = False
    fields["method"].type = fields["method"].TYPE_BYTES
    fields["metadata"].label = fields["metadata"].LABEL_OPTIONAL
    subscription = messages["Subscription"]
    subscription.oneof_decl[0].name = "kind"
    request.nested_type[0].options.map_entry = False
    del messages["AgentId"].field[1]
    altered.service[0].method[0].server_streaming = False
    altered.package = "agentz"

    differences = "\n".join(diff_files(autogen, altered))

    for expected in (
        "agents.RpcRequest.target: number differs: expected 3, actual 99",
        "agents.RpcRequest.source: proto3_optional differs",
        "agents.RpcRequest.method: type differs: expected 'TYPE_STRING', "
        "actual 'TYPE_BYTES'",
        "agents.RpcRequest.metadata: label differs",
        "agents.Subscription: oneofs differs",
        "agents.Subscription.typeSubscription: oneof differs: "
        "expected 'subscription', actual 'kind'",
        "agents.RpcRequest.MetadataEntry: map entry differs",
        "agents.AgentId.key: field missing in actual",
        "agents.AgentRpc.OpenChannel: server streaming differs",
        "agent_worker.proto: package differs",
    ):
        assert expected in differences
