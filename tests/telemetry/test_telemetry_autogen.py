"""AutoGen 0.7.5 sees agentgen's trace context, and agentgen continues AutoGen's.

An AutoGen worker (its venv plus the OpenTelemetry SDK, its own in-memory
exporter: the interop peer run by ``autogen_traced_worker.py``) and an
agentgen worker (this process, ``tracer_provider=``) on an agentgen host.
AutoGen's receiving spans link to the sender's span (AutoGen's behaviour);
agentgen's handler span is the child of AutoGen's.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf import json_format

from agentgen.runtime import AgentId, TopicId
from agentgen.runtime.grpc import GrpcHost
from tests.support.autogen_env import AutogenEnvError, ensure_autogen_otel_venv

from .span_dump import memory_provider, span_dict
from .traced_processes import HERE, INTEROP, Span, launch, stop_and_collect

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]

SKIP_VARIABLE = "AGENTGEN_SKIP_INTEROP"


@pytest.fixture(scope="module")
def autogen_python() -> Path:
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"interop tests skipped: {SKIP_VARIABLE}=1")
    try:
        return ensure_autogen_otel_venv()
    except AutogenEnvError as error:
        pytest.fail(
            f"cannot build the AutoGen 0.7.5 venv with the OpenTelemetry SDK: {error}",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def gencode(
    autogen_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, ModuleType, ModuleType]]:
    """The contract for AutoGen (a folder), and agentgen's pb2 and agents."""
    from tests.interop.gencode import (
        GencodeError,
        compile_for_agentgen,
        compile_for_autogen,
    )

    try:
        autogen_dir = compile_for_autogen(
            autogen_python, tmp_path_factory.mktemp("autogen_gencode")
        )
        agentgen_dir = compile_for_agentgen(tmp_path_factory.mktemp("agentgen_gencode"))
    except GencodeError as error:
        pytest.fail(str(error), pytrace=False)
    sys.path.insert(0, str(agentgen_dir))
    try:
        yield (
            autogen_dir,
            importlib.import_module("interop.v1.interop_pb2"),
            importlib.import_module("interop.v1.interop_agents"),
        )
    finally:
        sys.path.remove(str(agentgen_dir))


def named(spans: list[Span], name: str) -> Span:
    found = [span for span in spans if span["name"] == name]
    assert len(found) == 1, (name, [span["name"] for span in spans])
    return found[0]


async def test_autogen_links_to_agentgen_and_agentgen_continues_autogen(
    autogen_python: Path,
    gencode: tuple[Path, ModuleType, ModuleType],
    tmp_path: Path,
) -> None:
    from tests.interop.agentgen_side import running_agentgen_worker  # tests/interop

    autogen_dir, pb2, agents = gencode
    provider, exporter = memory_provider()
    async with GrpcHost("127.0.0.1:0") as host:
        peer, _ = await launch(
            "autogen",
            HERE / "autogen_traced_worker.py",
            ["--host", host.address, "--name", "autogen"],
            tmp_path,
            python=autogen_python,
            python_path=[autogen_dir, INTEROP / "peers"],
        )
        try:
            async with running_agentgen_worker(
                host.address, pb2, agents, tracer_provider=provider
            ) as agentgen:
                runtime = agentgen.runtime
                # agentgen publishes, and calls AutoGen's echo.
                await runtime.publish_message(
                    pb2.Ping(text="traced", seq=1), TopicId("interop.events", "src1")
                )
                await peer.wait_for(
                    lambda e: e["event"] == "received"
                    and e["agent"] == "autogen_typed/src1",
                    what="the Ping",
                )
                reply = await runtime.send_message(
                    pb2.EchoRequest(text="to autogen"), AgentId("autogen_echo", "k1")
                )
                assert reply.text == "echo:to autogen"
                # AutoGen calls agentgen's echo.
                await peer.command(
                    "send",
                    id=1,
                    target_type="agentgen_echo",
                    target_key="k2",
                    request=json_format.MessageToDict(
                        pb2.EchoRequest(text="to agentgen")
                    ),
                    sender=None,
                    timeout=10,
                )
                answer = await peer.wait_for(
                    lambda e: e["event"] in ("reply", "rpc_error") and e["id"] == 1,
                    what="the reply from agentgen",
                )
                assert answer["event"] == "reply", answer
            autogen = await stop_and_collect(peer)
        finally:
            await peer.close()
    ours = [span_dict(span) for span in exporter.get_finished_spans()]

    published = named(ours, "autogen publish interop.events.(src1)-T")
    sent = named(ours, "autogen send autogen_echo.(k1)-A")
    received = named(autogen, "autogen process autogen_typed.(src1)-A")
    assert received["links"] == [[published["trace_id"], published["span_id"]]]
    echoed = named(autogen, "autogen process autogen_echo.(k1)-A")
    assert echoed["links"] == [[sent["trace_id"], sent["span_id"]]]

    created = named(autogen, "autogen create agentgen_echo.(k2)-A")
    handled = named(ours, "autogen process agentgen_echo.(k2)-A")
    assert handled["trace_id"] == created["trace_id"]
    assert handled["parent_id"] == created["span_id"]
    # Our reply carries the handler span's context: AutoGen's ack links to it.
    acks = [span for span in autogen if span["name"] == "autogen ack"]
    assert [[handled["trace_id"], handled["span_id"]]] in [
        span["links"] for span in acks
    ]
