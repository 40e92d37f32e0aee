"""One agentgen ``GrpcWorkerRuntime`` in one role, for the scenarios through a host.

Usage: ``agentgen_worker.py sub|pub|echo|caller --address HOST:PORT ...``
(agentgen's venv, the benchmark gencode on ``PYTHONPATH``; options in
``childio.parse_worker_args``, roles in ``agentgen_roles.py``). Agents are
the plugin's generated bases. Both ends are agentgen, so RPCs use protobuf
payloads (``rpc_content_type=PROTOBUF_CONTENT_TYPE``; the default, JSON, is
for AutoGen Python peers).
"""

from __future__ import annotations

from agentgen_roles import play
from childio import Control, parse_worker_args, run_child

from agentgen.runtime import PROTOBUF_CONTENT_TYPE
from agentgen.runtime.grpc import GrpcWorkerRuntime


async def work(control: Control) -> None:
    """Connect to the host, play the role, disconnect."""
    args = parse_worker_args(__doc__.splitlines()[0])
    async with GrpcWorkerRuntime(
        args.address, rpc_content_type=PROTOBUF_CONTENT_TYPE
    ) as runtime:
        await play(control, args, runtime)


if __name__ == "__main__":
    run_child(work)
