"""agentgen's pytest plugin: runtimes, a gRPC host and workers, a delivery recorder.

Registered through the ``pytest11`` entry point, so every pytest run where
agentgen is installed loads it (``-p no:agentgen`` turns it off). Loading it
imports no runtime and no grpc: each fixture imports what it runs. The async
fixtures need pytest-asyncio (``pip install 'agentgen[testing]'``) and work
in its strict and auto modes. Every fixture stops what it started, also when
the test fails, and every start and stop is bounded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import pytest

from .deadlines import START_TIMEOUT, STOP_TIMEOUT, deadline
from .workers import NatsWorkerFactory, WorkerFactory

try:
    import pytest_asyncio
except ImportError:  # agentgen installed without its testing extra
    pytest_asyncio = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from pathlib import Path

    from agentgen.nats_server import RunningServer
    from agentgen.runtime import InProcessRuntime
    from agentgen.runtime.grpc import GrpcHost

    from .deliveries import Deliveries

__all__ = [
    "agentgen_deliveries",
    "agentgen_host",
    "agentgen_nats_server",
    "agentgen_nats_worker",
    "agentgen_runtime",
    "agentgen_worker",
]

F = TypeVar("F", bound=Callable[..., Any])


def _async_fixture(function: F) -> F:
    """``pytest_asyncio.fixture``, or without pytest-asyncio a fixture that says so."""
    if pytest_asyncio is not None:
        return cast(F, pytest_asyncio.fixture(function))

    def needs_pytest_asyncio() -> NoReturn:
        pytest.fail(
            f"the {function.__name__} fixture needs pytest-asyncio: "
            "pip install 'agentgen[testing]'",
            pytrace=False,
        )

    needs_pytest_asyncio.__doc__ = function.__doc__
    return cast(F, pytest.fixture(name=function.__name__)(needs_pytest_asyncio))


def _requested_deliveries(request: pytest.FixtureRequest) -> Deliveries | None:
    """The test's ``agentgen_deliveries`` recorder, if the test uses it."""
    if "agentgen_deliveries" not in request.fixturenames:
        return None
    return cast("Deliveries", request.getfixturevalue("agentgen_deliveries"))


@pytest.fixture
def agentgen_deliveries() -> Iterator[Deliveries]:
    """A :class:`~agentgen.testing.Deliveries` recorder for the test.

    It watches ``agentgen_runtime`` and every ``agentgen_worker`` runtime of
    the test from their start; ``.watch(runtime)`` adds others. Example::

        async def test_signs(agentgen_runtime, agentgen_deliveries):
            await Guestbook.register(agentgen_runtime)
            await agentgen_runtime.publish_message(pb.Greeted(name="Ada"))
            signed = await agentgen_deliveries.wait_for(1, agent_type="Guestbook")
            assert signed[0].message.name == "Ada"
    """
    from .deliveries import Deliveries

    with Deliveries() as deliveries:
        yield deliveries


@_async_fixture
async def agentgen_runtime(
    request: pytest.FixtureRequest,
) -> AsyncIterator[InProcessRuntime]:
    """A started ``InProcessRuntime``, stopped after the test.

    Example::

        async def test_hello(agentgen_runtime):
            await Greeter.register(agentgen_runtime)
            client = GreeterClient(agentgen_runtime)
            reply = await client.say_hello(pb.Greet(name="Ada"))
            assert reply.text == "Hello, Ada!"
    """
    from agentgen.runtime import InProcessRuntime

    runtime = InProcessRuntime()
    deliveries = _requested_deliveries(request)
    if deliveries is not None:
        deliveries.watch(runtime)
    async with deadline(START_TIMEOUT, "starting InProcessRuntime timed out"):
        await runtime.start()
    try:
        yield runtime
    finally:
        async with deadline(STOP_TIMEOUT, "stopping InProcessRuntime timed out"):
            await runtime.stop()


@_async_fixture
async def agentgen_host() -> AsyncIterator[GrpcHost]:
    """A started ``GrpcHost`` on a free port of 127.0.0.1, stopped after the test.

    ``agentgen_host.address`` is its ``host:port``. Example::

        async def test_greet_command(agentgen_host, agentgen_worker):
            await register_agents(await agentgen_worker())
            assert await greet("Dee", agentgen_host.address) == "Hello, Dee!"

    For other host options, define your own ``agentgen_host`` fixture in a
    ``conftest.py``: ``agentgen_worker`` connects to it.
    """
    from agentgen.runtime.grpc import GrpcHost

    host = GrpcHost("127.0.0.1:0")
    async with deadline(START_TIMEOUT, "starting GrpcHost timed out"):
        await host.start()
    try:
        yield host
    finally:
        async with deadline(STOP_TIMEOUT, f"stopping {host.address} timed out"):
            await host.stop()


@_async_fixture
async def agentgen_worker(
    agentgen_host: GrpcHost, request: pytest.FixtureRequest
) -> AsyncIterator[WorkerFactory]:
    """Makes started ``GrpcWorkerRuntime``s connected to ``agentgen_host``.

    ``await agentgen_worker(**options)`` returns a new worker (options go to
    ``GrpcWorkerRuntime``); all are stopped after the test, the last made
    first, then the host. Example::

        async def test_two_workers(agentgen_worker):
            agents, user = await agentgen_worker(), await agentgen_worker()
            await Greeter.register(agents)
            reply = await GreeterClient(user).say_hello(pb.Greet(name="Ada"))
            assert reply.text == "Hello, Ada!"
    """
    factory = WorkerFactory(agentgen_host.address, _requested_deliveries(request))
    try:
        yield factory
    finally:
        await factory.stop_all()


@pytest.fixture
def agentgen_nats_server(tmp_path: Path) -> Iterator[RunningServer]:
    """A ``nats-server`` with JetStream on a free port of 127.0.0.1, stopped after.

    ``agentgen_nats_server.url`` is its ``nats://`` URL; its store is in the
    test's ``tmp_path``. The executable is found as ``agentgen nats`` finds it
    (``pip install 'agentgen[nats-server]'`` installs one). Example::

        def test_url(agentgen_nats_server):
            assert agentgen_nats_server.url.startswith("nats://127.0.0.1:")
    """
    from agentgen.nats_server import start_server

    server = start_server(tmp_path / "agentgen-nats")
    try:
        yield server
    finally:
        server.stop()


@_async_fixture
async def agentgen_nats_worker(
    agentgen_nats_server: RunningServer, request: pytest.FixtureRequest
) -> AsyncIterator[NatsWorkerFactory]:
    """Makes started ``NatsWorkerRuntime``s on ``agentgen_nats_server``.

    The workers of one test share a namespace of its own; ``await
    agentgen_nats_worker(**options)`` returns a new one (options go to
    ``NatsWorkerRuntime``); all are stopped after the test. Example::

        async def test_two_workers(agentgen_nats_worker):
            agents, user = await agentgen_nats_worker(), await agentgen_nats_worker()
            await Greeter.register(agents)
            await user.wait_for_agent_types("Greeter")
            reply = await GreeterClient(user).say_hello(pb.Greet(name="Ada"))
            assert reply.text == "Hello, Ada!"
    """
    import uuid

    factory = NatsWorkerFactory(
        agentgen_nats_server.url,
        f"test-{uuid.uuid4().hex[:12]}",
        _requested_deliveries(request),
    )
    try:
        yield factory
    finally:
        await factory.stop_all()
