"""The pytest plugin, as users meet it: test files run by pytester.

In-process runs (``runpytest``) load the plugin through its ``pytest11``
entry point, as a user's pytest does; the runs that must not see the rest of
this process (what loading the plugin imports, pytest-asyncio missing) are
subprocesses.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

# Imported here rather than first inside an in-process run: pytester forgets
# the modules a run imported, and the next run would import them anew.
PRELOADED = [
    importlib.import_module(name)
    for name in (
        "agentgen.runtime.grpc.host.server",
        "agentgen.runtime.grpc.worker.runtime",
        "agentgen.runtime.nats.runtime",
        "agentgen.testing.deliveries",
        "agentgen.testing.workers",
    )
]

SAMPLE_AGENTS = (Path(__file__).parent / "sample_agents.py").read_text()

# {mark} is `pytestmark = pytest.mark.asyncio` in strict mode, nothing in auto.
FIXTURE_TESTS = """
import pytest
from google.protobuf import wrappers_pb2 as w

from agentgen.runtime import AgentId, TopicId
from sample_agents import Echo, Relay, Tally

{mark}


async def test_runtime(agentgen_runtime, agentgen_deliveries):
    runtime = agentgen_runtime
    assert runtime.is_running
    await runtime.register_agent_class(Echo)
    reply = await runtime.send_message(w.StringValue(value="hi"), AgentId("Echo"))
    assert reply.value == "hi"
    [handled] = await agentgen_deliveries.wait_for(agent_type="Echo")
    assert handled.ctx.is_rpc


async def test_workers_through_the_host(
    agentgen_host, agentgen_worker, agentgen_deliveries
):
    agents = await agentgen_worker()
    user = await agentgen_worker(rpc_timeout=5)
    assert agents.host_address == user.host_address == agentgen_host.address
    assert agentgen_host.address.startswith("127.0.0.1:")
    assert not agentgen_host.address.endswith(":0")
    for cls in (Echo, Relay, Tally):
        await agents.register_agent_class(cls)
    reply = await user.send_message(w.StringValue(value="hi"), AgentId("Relay", "k"))
    assert reply.value == "relayed:hi"
    await user.publish_message(w.Int64Value(value=4), TopicId("numbers"))
    await user.publish_message(w.Int64Value(value=5), TopicId("numbers"))
    tallied = await agentgen_deliveries.wait_for(2, agent_type="Tally")
    assert [d.message.value for d in tallied] == [4, 5]
    assert [d.agent_id for d in agentgen_deliveries.matching(agent_type="Echo")] == [
        AgentId("Echo", "k")
    ]


async def test_nats_workers(
    agentgen_nats_server, agentgen_nats_worker, agentgen_deliveries
):
    assert agentgen_nats_server.url.startswith("nats://127.0.0.1:")
    agents = await agentgen_nats_worker()
    user = await agentgen_nats_worker(rpc_timeout=5)
    assert agents.subjects.namespace == user.subjects.namespace
    for cls in (Echo, Relay, Tally):
        await agents.register_agent_class(cls)
    await user.wait_for_agent_types("Relay", "Tally")
    reply = await user.send_message(w.StringValue(value="hi"), AgentId("Relay", "k"))
    assert reply.value == "relayed:hi"
    await user.publish_message(w.Int64Value(value=4), TopicId("numbers"))
    tallied = await agentgen_deliveries.wait_for(1, agent_type="Tally")
    assert [d.message.value for d in tallied] == [4]
"""

TIMED_OUT_WAIT = """
import pytest
from google.protobuf import wrappers_pb2 as w

from agentgen.runtime import TopicId
from sample_agents import Echo, Tally


@pytest.mark.asyncio
async def test_waits_for_two(agentgen_runtime, agentgen_deliveries):
    runtime = agentgen_runtime
    await runtime.register_agent_class(Echo)
    await runtime.register_agent_class(Tally)
    await runtime.publish_message(w.Int64Value(value=1), TopicId("numbers"))
    await runtime.publish_message(w.StringValue(value="a"), TopicId("words", "x"))
    await agentgen_deliveries.wait_for(
        2, message_type=w.Int64Value, where=lambda m: m.value > 0, timeout=0.2
    )
"""

FAILING_TEST_THEN_CHECK = """
import pytest

STARTED = {}


@pytest.mark.asyncio
async def test_fails_with_everything_running(
    agentgen_runtime, agentgen_host, agentgen_worker
):
    STARTED["runtime"] = agentgen_runtime
    STARTED["host"] = agentgen_host
    STARTED["workers"] = [await agentgen_worker(), await agentgen_worker()]
    assert all(worker.is_running for worker in STARTED["workers"])
    assert agentgen_host.running
    assert False, "the test fails"


def test_everything_was_stopped():
    assert not STARTED["runtime"].is_running
    assert not STARTED["host"].running
    assert [worker.is_running for worker in STARTED["workers"]] == [False, False]
"""


def project(pytester: pytest.Pytester, mode: str, **files: str) -> None:
    """A project in asyncio ``mode`` with the sample agents and ``files``."""
    pytester.makeini(
        f"[pytest]\nasyncio_mode = {mode}\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(sample_agents=SAMPLE_AGENTS, **files)


@pytest.mark.parametrize(
    ("mode", "mark"),
    [("strict", "pytestmark = pytest.mark.asyncio"), ("auto", "")],
    ids=["strict", "auto"],
)
def test_the_fixtures_work_in_strict_and_auto_mode(
    pytester: pytest.Pytester, mode: str, mark: str
) -> None:
    project(pytester, mode, test_fixtures=FIXTURE_TESTS.format(mark=mark))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_a_timed_out_wait_fails_listing_what_was_received(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, "strict", test_wait=TIMED_OUT_WAIT)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E*AssertionError: timed out after 0.2 s waiting for 2 deliveries of "
            "google.protobuf.Int64Value where test_waits_for_two.<locals>.<lambda>; "
            "1 matched",
            "E*handled (2):",
            "E*  Tally/default: google.protobuf.Int64Value x1",
            "E*  Echo/x: google.protobuf.StringValue x1",
            "E*being handled (0):",
            "E*  nothing",
        ]
    )


def test_what_the_fixtures_started_is_stopped_when_the_test_fails(
    pytester: pytest.Pytester,
) -> None:
    project(pytester, "strict", test_teardown=FAILING_TEST_THEN_CHECK)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*AssertionError: the test fails*"])


def test_the_plugin_is_registered_and_loads_neither_runtimes_nor_grpc() -> None:
    [entry] = importlib.metadata.entry_points(group="pytest11", name="agentgen")
    assert entry.value == "agentgen.testing.plugin"
    probe = (
        "import json, sys, agentgen.testing.plugin\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )
    heavy = [
        name
        for name in loaded
        if name.startswith(("grpc", "agentgen.runtime", "google.protobuf"))
    ]
    assert heavy == []


def test_without_pytest_asyncio_the_async_fixtures_say_what_to_install(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """agentgen installed without its testing extra: pytest still runs."""
    pytester.mkpydir("pytest_asyncio").joinpath("__init__.py").write_text(
        "raise ImportError('pytest-asyncio is not installed (simulated)')\n"
    )
    pytester.makepyfile(test_plain="""
        def test_sync_fixture(agentgen_deliveries):
            assert agentgen_deliveries.handled == []

        def test_async_fixture(agentgen_runtime):
            pass
        """)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = pytester.runpytest_subprocess(
        "-p", "agentgen.testing.plugin", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1, errors=1)
    assert (
        "the agentgen_runtime fixture needs pytest-asyncio: "
        "pip install 'agentgen[testing]'"
    ) in result.stdout.lines
