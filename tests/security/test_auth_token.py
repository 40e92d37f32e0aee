"""The host's optional shared token: every method refuses a call without it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import wrappers_pb2
from google.protobuf.message import Message

from agentgen.protos import agent_worker_pb2 as pb
from agentgen.runtime import Agent, AgentId
from agentgen.runtime.grpc import (
    AuthenticationError,
    GrpcHost,
    GrpcWorkerRuntime,
)
from agentgen.runtime.grpc.protocol import batching, service
from agentgen.runtime.grpc.protocol.auth import AUTH_TOKEN_VARIABLE, TokenCheck
from tests.cli.helpers import run_cli_process
from tests.cli.host_process import host_process

from .hostile import Arrivals, Collector, TokenPeer, event_message, recorded_logs

pytestmark = pytest.mark.timeout(60)

TOKEN = "s3cret-Token_1"
WAIT = 10.0

UNARY_CALLS: list[tuple[str, Message, type[Message]]] = [
    (
        service.REGISTER_AGENT,
        pb.RegisterAgentTypeRequest(type="intruder"),
        pb.RegisterAgentTypeResponse,
    ),
    (
        service.ADD_SUBSCRIPTION,
        pb.AddSubscriptionRequest(
            subscription=pb.Subscription(
                id="s1",
                typeSubscription=pb.TypeSubscription(
                    topic_type="t", agent_type="intruder"
                ),
            )
        ),
        pb.AddSubscriptionResponse,
    ),
    (
        service.REMOVE_SUBSCRIPTION,
        pb.RemoveSubscriptionRequest(id="s1"),
        pb.RemoveSubscriptionResponse,
    ),
    (
        service.GET_SUBSCRIPTIONS,
        pb.GetSubscriptionsRequest(),
        pb.GetSubscriptionsResponse,
    ),
]
STREAM_PATHS = [
    service.method_path(service.OPEN_CHANNEL),
    service.method_path(service.OPEN_CONTROL_CHANNEL),
    batching.batch_path(),
]
BAD_TOKENS = [
    pytest.param(None, id="no-token"),
    pytest.param("Gu3ss-7f1c", id="wrong-token"),
    pytest.param(TOKEN[:-1], id="prefix-of-the-token"),
    pytest.param(TOKEN + "x", id="token-plus-one"),
    pytest.param(TOKEN.upper(), id="other-case"),
]


@pytest.fixture
async def host() -> AsyncIterator[GrpcHost]:
    async with GrpcHost("127.0.0.1:0", auth_token=TOKEN, rpc_timeout=5) as running:
        yield running


@pytest.mark.parametrize("token", BAD_TOKENS)
async def test_every_method_refuses_a_missing_or_wrong_token(
    host: GrpcHost, token: str | None
) -> None:
    peer = TokenPeer(host.address, token)
    with recorded_logs() as logs:
        for method, request, response_type in UNARY_CALLS:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await peer.unary(method, request, response_type)
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, method
            assert "authorization: Bearer" in (refused.value.details() or "")
        for path in STREAM_PATHS:
            stream = peer.channel.stream_stream(path, None, None)(
                None, metadata=peer.metadata
            )
            with pytest.raises(grpc.aio.AioRpcError) as closed:
                await asyncio.wait_for(stream.read(), WAIT)
            assert closed.value.code() == grpc.StatusCode.UNAUTHENTICATED, path
    await peer.close()
    assert host.agent_types == {}
    assert host.counters.refused_calls == len(UNARY_CALLS) + len(STREAM_PATHS)
    refusals = logs.matching("missing or wrong token")
    assert len(refusals) == len(UNARY_CALLS) + len(STREAM_PATHS)
    if token is not None:
        assert not any(token in text for text in logs.texts())


async def test_the_right_token_is_served(host: GrpcHost) -> None:
    async with (
        TokenPeer(host.address, TOKEN) as receiver,
        TokenPeer(host.address, TOKEN) as sender,
    ):
        await receiver.register("guest")
        await receiver.subscribe("news", "guest")
        await sender.send(event_message("news", event_id="e1"))
        assert (await receiver.receive()).cloudEvent.id == "e1"
    assert host.counters.refused_calls == 0


async def test_workers_with_the_token_talk_through_the_host(host: GrpcHost) -> None:
    arrivals = Arrivals()
    callee = GrpcWorkerRuntime(host.address, auth_token=TOKEN, connect_timeout=WAIT)
    caller = GrpcWorkerRuntime(host.address, auth_token=TOKEN, connect_timeout=WAIT)
    await callee.register_agent_class(Collector, lambda: Collector(arrivals))
    async with callee, caller:
        reply = await caller.send_message(
            wrappers_pb2.StringValue(value="hi"), AgentId("collector", "k")
        )
    assert reply == wrappers_pb2.StringValue(value="echo:hi")
    assert host.counters.refused_calls == 0


@pytest.mark.parametrize(
    ("token", "sent"), [("wrong", "a wrong token"), ("", "no token")]
)
async def test_a_worker_with_a_wrong_token_fails_to_start_at_once(
    host: GrpcHost, token: str, sent: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(AUTH_TOKEN_VARIABLE, raising=False)
    # A long connect timeout: a refused token must not be retried until it.
    worker = GrpcWorkerRuntime(host.address, auth_token=token, connect_timeout=60)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(AuthenticationError) as refused:
        await asyncio.wait_for(worker.start(), WAIT)
    assert loop.time() - started < WAIT
    message = str(refused.value)
    assert f"it sent {sent}" in message
    assert host.address in message
    assert "AGENTGEN_AUTH_TOKEN" in message
    assert isinstance(refused.value, ConnectionError)
    assert not worker.is_running
    assert host.agent_types == {}


async def test_the_worker_reads_the_token_from_the_environment(
    host: GrpcHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(AUTH_TOKEN_VARIABLE, TOKEN)
    worker = GrpcWorkerRuntime(host.address, connect_timeout=WAIT)
    await worker.register_factory("from-env", lambda: _never())
    async with worker:
        assert host.agent_types == {"from-env": worker.client_id}
    assert host.counters.refused_calls == 0


def _never() -> Agent:
    raise AssertionError("no agent is created in this test")


async def test_a_host_without_a_token_ignores_the_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(AUTH_TOKEN_VARIABLE, TOKEN)
    async with (
        GrpcHost("127.0.0.1:0") as open_host,
        GrpcWorkerRuntime(open_host.address, connect_timeout=WAIT) as worker,
    ):
        assert worker.connected


@pytest.mark.parametrize("token", ["", " padded", "tab\there", "naïve", "new\nline"])
def test_tokens_that_cannot_travel_in_a_header_are_refused(token: str) -> None:
    with pytest.raises(ValueError, match="auth token"):
        GrpcHost("127.0.0.1:0", auth_token=token)
    if token:
        with pytest.raises(ValueError, match="auth token"):
            GrpcWorkerRuntime("127.0.0.1:1", auth_token=token)


def test_token_check_reads_only_the_authorization_header() -> None:
    check = TokenCheck(TOKEN)
    assert check.admits([("authorization", f"Bearer {TOKEN}")])
    assert check.admits([("authorization", f"Bearer {TOKEN}".encode())])
    assert not check.admits([("authorization", TOKEN)])  # no scheme
    assert not check.admits([("authorization", f"Basic {TOKEN}")])
    assert not check.admits([("x-token", f"Bearer {TOKEN}")])
    assert not check.admits(None)
    # Only the first authorization header counts.
    assert not check.admits(
        [("authorization", "Bearer nope"), ("authorization", f"Bearer {TOKEN}")]
    )


def _register_sync(address: str, metadata: tuple[tuple[str, str], ...]) -> None:
    with grpc.insecure_channel(address) as channel:
        channel.unary_unary(
            service.method_path(service.REGISTER_AGENT),
            request_serializer=pb.RegisterAgentTypeRequest.SerializeToString,
            response_deserializer=pb.RegisterAgentTypeResponse.FromString,
        )(pb.RegisterAgentTypeRequest(type="cli"), metadata=metadata, timeout=WAIT)


@pytest.mark.parametrize("source", ["option", "environment"])
def test_agentgen_host_requires_the_token_it_was_given(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if source == "environment":
        monkeypatch.setenv(AUTH_TOKEN_VARIABLE, TOKEN)
        arguments: tuple[str, ...] = ()
    else:
        monkeypatch.delenv(AUTH_TOKEN_VARIABLE, raising=False)
        arguments = ("--auth-token", TOKEN)
    client_id = (service.CLIENT_ID_HEADER, "cli-client")
    with host_process("--address", "127.0.0.1:0", *arguments) as host:
        with pytest.raises(grpc.RpcError) as refused:
            _register_sync(host.address, (client_id,))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        _register_sync(host.address, (client_id, ("authorization", f"Bearer {TOKEN}")))
        host.process.terminate()
        assert host.process.wait(timeout=WAIT) == 0


def test_agentgen_host_refuses_a_token_that_cannot_be_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(AUTH_TOKEN_VARIABLE, raising=False)
    result = run_cli_process(
        "host", "--address", "127.0.0.1:0", "--auth-token", " padded", cwd=tmp_path
    )
    assert result.exit_code == 2
    assert "agentgen host: error: --auth-token:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
