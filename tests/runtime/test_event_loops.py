"""``agentgen.runtime.run``: the loop it picks, and both runtimes on each loop.

These tests are synchronous: each makes its own event loop through ``run``.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest
import uvloop
from google.protobuf import wrappers_pb2

from agentgen.runtime import (
    AgentId,
    EventLoopUnavailableError,
    InProcessRuntime,
    TopicId,
    run,
)
from agentgen.runtime import event_loop as event_loop_module
from agentgen.runtime.event_loop import LoopChoice
from agentgen.runtime.grpc import GrpcHost
from tests.support.agents import Arrivals, Collector
from tests.support.grpc_harness import bounded, running_worker, wait_until

from .agents import Recorder

pytestmark = pytest.mark.timeout(60)


async def _loop_type() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_asyncio_is_the_standard_librarys_loop() -> None:
    assert run(_loop_type(), loop="asyncio") is asyncio.SelectorEventLoop


@pytest.mark.parametrize("choice", ["uvloop", "auto"])
def test_uvloop_and_auto_with_uvloop_installed(choice: LoopChoice) -> None:
    assert run(_loop_type(), loop=choice) is uvloop.Loop


def test_auto_falls_back_to_asyncio_without_uvloop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(event_loop_module, "uvloop_installed", lambda: False)
    assert run(_loop_type(), loop="auto") is asyncio.SelectorEventLoop


def test_asking_for_a_missing_uvloop_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(event_loop_module, "uvloop_installed", lambda: False)
    main = _loop_type()
    with pytest.raises(EventLoopUnavailableError, match=r"agentgen\[uvloop\]"):
        run(main, loop="uvloop")
    assert inspect.getcoroutinestate(main) == inspect.CORO_CLOSED  # no warning


def test_an_unknown_loop_is_refused() -> None:
    main = _loop_type()
    with pytest.raises(ValueError, match="unknown event loop 'trio'"):
        run(main, loop="trio")  # type: ignore[arg-type]
    assert inspect.getcoroutinestate(main) == inspect.CORO_CLOSED


async def _publish_and_call(address: str) -> tuple[list[str], object]:
    arrivals = Arrivals()
    async with (
        running_worker(address) as callee,
        running_worker(address) as caller,
    ):
        await callee.register_agent_class(Collector, lambda: Collector(arrivals))
        await caller.publish_message(
            wrappers_pb2.StringValue(value="event"), TopicId("news", "k1")
        )
        await wait_until(lambda: len(arrivals.items) == 1, "the event")
        reply = await bounded(
            caller.send_message(
                wrappers_pb2.StringValue(value="call"), AgentId("collector", "k2")
            )
        )
    return [value for _, value, _ in arrivals.items], reply


async def _host_and_workers() -> tuple[list[str], object]:
    async with GrpcHost("127.0.0.1:0", rpc_timeout=10) as host:
        return await _publish_and_call(host.address)


@pytest.mark.parametrize("choice", ["asyncio", "uvloop"])
def test_publish_and_rpc_through_a_host_on_each_loop(choice: LoopChoice) -> None:
    values, reply = run(_host_and_workers(), loop=choice)
    assert values == ["event", "call"]
    assert reply == wrappers_pb2.StringValue(value="echo:call")


async def _in_process() -> tuple[list[str], object]:
    async with InProcessRuntime() as runtime:
        await runtime.register_agent_class(Recorder, Recorder)
        await runtime.publish_message(
            wrappers_pb2.StringValue(value="event"), TopicId("news", "k1")
        )
        reply = await bounded(
            runtime.send_message(
                wrappers_pb2.StringValue(value="call"), AgentId("recorder", "k1")
            )
        )
        agent = await runtime.get_agent(AgentId("recorder", "k1"))
        assert isinstance(agent, Recorder)
        await runtime.stop_when_idle()
    return [value for value, _ in agent.received], reply


@pytest.mark.parametrize("choice", ["asyncio", "uvloop"])
def test_in_process_publish_and_rpc_on_each_loop(choice: LoopChoice) -> None:
    values, reply = run(_in_process(), loop=choice)
    assert values == ["event", "call"]
    assert reply == wrappers_pb2.StringValue(value="echo:call")
