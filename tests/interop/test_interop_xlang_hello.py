"""AutoGen's cross-language hello, as its Python side is, with agentgen's HelloAgent.

AutoGen's sample only runs on the .NET gateway: its Python side registers its
``UserProxy`` as agent type ``HelloAgent``, the type the other side's
HelloAgent serves. Here the other side is agentgen's ``examples/hello``
HelloAgent in a process of its own, the AutoGen side ``peers/xlang_hello.py``
(AutoGen 0.7.5, doing on the wire what the sample does), and the host
``agentgen host`` as a user starts it. With
``--type-sharing fan-out`` the conversation completes as on the gateway; with
the default, ``exclusive``, the host refuses the second ``HelloAgent`` as
AutoGen's Python host does.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.cli.host_process import HostProcess, host_process
from tests.support import REPO_ROOT
from tests.support.child_processes import child_environment, end_process
from tests.support.protoc import compile_protos

from .peer_process import Event, PeerLauncher, PeerProcess

pytestmark = pytest.mark.timeout(120)

HELLO_DIR = REPO_ROOT / "examples" / "hello"
WAIT_SECONDS = 30.0
GOODBYE = "*** HelloAgents/python said Goodbye ***"
"""The Output agentgen's HelloAgent sends when the conversation is closed."""


@pytest.fixture(scope="session")
def hello_modules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``hello_pb2`` and ``hello_agents`` of ``examples/hello``, as generated."""
    return compile_protos(
        HELLO_DIR / "protos",
        ["hello.proto"],
        tmp_path_factory.mktemp("hello_modules"),
        pyi=False,
        what="protoc with the agentgen plugin (examples/hello)",
    )


class HelloAgentProcess:
    """``examples/hello/hello_agent.py`` running; its output lines as read."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def wait_for_line(self, line: str) -> None:
        """Read output until ``line`` (bounded); fail if the process ends first."""
        stdout = self.process.stdout
        assert stdout is not None
        async with asyncio.timeout(WAIT_SECONDS):
            while line not in self.lines:
                raw = await stdout.readline()
                assert raw, f"HelloAgent ended before {line!r}: {self.lines}"
                self.lines.append(raw.decode().rstrip("\n"))

    async def exit_code(self) -> int:
        """Read the rest of the output and return the exit code (bounded)."""
        stdout = self.process.stdout
        assert stdout is not None
        async with asyncio.timeout(WAIT_SECONDS):
            rest = await stdout.read()
            self.lines += rest.decode().splitlines()
            return await self.process.wait()


@asynccontextmanager
async def hello_agent(
    address: str, modules: Path, log_dir: Path
) -> AsyncIterator[HelloAgentProcess]:
    """agentgen's HelloAgent on ``address``, once registered; ended by pid after."""
    environment = child_environment([str(modules)])
    environment["AGENT_HOST"] = address
    with (log_dir / "hello_agent.stderr.log").open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HELLO_DIR / "hello_agent.py"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            env=environment,
        )
    agent = HelloAgentProcess(process)
    try:
        await agent.wait_for_line("HelloAgent ready")
        yield agent
    finally:
        await end_process(process, 5.0)


def received(peer: PeerProcess, agent: str, message_type: str) -> list[Event]:
    """What the AutoGen side's ``agent`` handled of ``message_type``."""
    return peer.seen(
        lambda event: event["event"] == "received"
        and event["agent"] == agent
        and event["message_type"] == message_type
    )


def stop_host(host: HostProcess) -> str:
    """SIGTERM the host; check it stopped cleanly; return its stderr."""
    host.process.send_signal(signal.SIGTERM)
    assert host.process.wait(timeout=WAIT_SECONDS) == 0
    assert host.process.stderr is not None
    stderr = host.process.stderr.read().decode()
    assert "Traceback" not in stderr
    return stderr


async def test_on_a_fan_out_host_the_autogen_hello_sample_completes(
    hello_modules: Path, xlang_hello_peers: PeerLauncher, tmp_path: Path
) -> None:
    with host_process("--address", "127.0.0.1:0", "--type-sharing", "fan-out") as host:
        async with hello_agent(host.address, hello_modules, tmp_path) as agent:
            peer = await xlang_hello_peers.launch(
                "xlang-hello", "xlang_hello", "--host", host.address
            )
            await peer.wait_for(lambda event: event["event"] == "ready", what="ready")
            closed = await peer.wait_for(
                lambda event: event["event"] == "received"
                and event["message_type"] == "agents.ConversationClosed",
                what="ConversationClosed",
            )
            goodbye = await peer.wait_for(
                lambda event: event["event"] == "received"
                and event["message"] == {"message": GOODBYE},
                what=f"Output {GOODBYE!r}",
            )
            # agentgen's HelloAgent published Shutdown to the conversation and
            # stopped on it.
            assert await agent.exit_code() == 0, agent.lines
            await peer.command("stop")
            await peer.wait_for(lambda event: event["event"] == "stopped", what="stop")
        assert "(--type-sharing fan-out)" in stop_host(host)
    assert closed["agent"] == "HelloAgent/default"
    assert closed["message"] == {
        "userId": "HelloAgents/python",
        "userMessage": "Goodbye",
    }
    assert closed["sender"] == "HelloAgent/HelloAgents/python"
    assert goodbye["agent"] == "HelloAgent/HelloAgents/python"
    assert goodbye["sender"] == "HelloAgent/default"
    assert goodbye["topic"] == {"type": "HelloTopic", "source": "HelloAgents/python"}
    # (The sample's own Output may reach HelloAgent after Shutdown: not checked.)
    for line in (
        "HelloAgent/HelloAgents/python received: Hello from Python!",
        f"HelloAgent/default: {GOODBYE}",
        "HelloAgent/HelloAgents/python shutting down: HelloAgents/python said goodbye",
    ):
        assert agent.lines.count(line) == 1, (line, agent.lines)
    assert agent.lines[-1] == "HelloAgent stopped"
    # Each event reached each side once: nothing handled twice.
    assert len(received(peer, "HelloAgent/default", "agents.ConversationClosed")) == 1
    outputs = received(peer, "HelloAgent/HelloAgents/python", "agents.Output")
    assert [event["message"]["message"] for event in outputs].count(GOODBYE) == 1


async def test_an_exclusive_host_refuses_the_samples_hello_agent_as_autogen_does(
    hello_modules: Path, xlang_hello_peers: PeerLauncher, tmp_path: Path
) -> None:
    with host_process("--address", "127.0.0.1:0") as host:
        async with hello_agent(host.address, hello_modules, tmp_path) as agent:
            peer = await xlang_hello_peers.launch(
                "xlang-hello", "xlang_hello", "--host", host.address
            )
            outcome = await peer.wait_for(
                lambda event: event["event"] in ("refused", "ready"),
                what="the registration's outcome",
            )
            assert agent.process.returncode is None  # the first HelloAgent stays
        assert "(--type-sharing exclusive)" in stop_host(host)
    assert outcome["event"] == "refused", outcome
    assert "Agent type HelloAgent already registered" in outcome["error"]
