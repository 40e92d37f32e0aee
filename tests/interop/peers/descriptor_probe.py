"""Report autogen-ext's wire descriptors, and whether ours can join its pool.

Run with the AutoGen venv's Python. Reads one JSON object from stdin,
``{"ours": {"<file name>": "<base64 FileDescriptorProto>", ...}}``, and prints
one JSON line::

    {"event": "descriptors",
     "autogen": {"agent_worker.proto": "<base64>", "cloudevent.proto": "<base64>"},
     "coexist": {"<file name>": "ok" | "<error>", ...}}

``coexist`` says, per file of ours, whether adding it to the default pool that
already holds autogen-ext's modules succeeds (reference section 1.5: the same
file names can share a process only if the descriptors agree).
"""

# autogen-ext exists only in the AutoGen venv, not where mypy runs:
# mypy: disable-error-code="import-not-found"

from __future__ import annotations

import base64
import json
import sys

from autogen_ext.runtimes.grpc.protos import agent_worker_pb2, cloudevent_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from peer_io import emit


def serialized(module_descriptor: object) -> str:
    proto = descriptor_pb2.FileDescriptorProto()
    module_descriptor.CopyToProto(proto)  # type: ignore[attr-defined]
    return base64.b64encode(proto.SerializeToString()).decode("ascii")


def try_add(serialized_file: bytes) -> str:
    try:
        descriptor_pool.Default().AddSerializedFile(serialized_file)
    except Exception as error:  # the error text is the result
        return f"{type(error).__name__}: {error}"
    return "ok"


def main() -> None:
    ours: dict[str, str] = json.load(sys.stdin)["ours"]
    emit(
        "descriptors",
        autogen={
            descriptor.name: serialized(descriptor)
            for descriptor in (agent_worker_pb2.DESCRIPTOR, cloudevent_pb2.DESCRIPTOR)
        },
        coexist={name: try_add(base64.b64decode(data)) for name, data in ours.items()},
    )


if __name__ == "__main__":
    main()
