"""``agentgen nats`` as a real process: serves JetStream, stops on a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nats
import pytest
from nats.js.api import KeyValueConfig

from agentgen.nats_server import NATS_SERVER_ENV

from .helpers import run_cli_process
from .host_process import read_line

TIMEOUT = 30
HOST = "127.0.0.1"


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def nats_command(*args: str, cwd: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m agentgen nats ARGS``; kill it by pid on exit if running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "agentgen", "nats", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=TIMEOUT)


def refuses_connections(port: int) -> bool:
    """Whether nothing listens on loopback ``port`` any more."""
    with socket.socket() as probe:
        probe.settimeout(5)
        try:
            probe.connect((HOST, port))
        except ConnectionRefusedError:
            return True
    return False


async def use_key_value(url: str) -> bytes | None:
    """Connect with nats-py, create a bucket, write and read one key."""
    client = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
    try:
        kv = await client.jetstream(timeout=10).create_key_value(
            KeyValueConfig(bucket="cli_probe")
        )
        await kv.create("hello", b"world")
        return (await kv.get("hello")).value
    finally:
        await client.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_serves_jetstream_then_stops_on_a_signal(
    tmp_path: Path, signum: signal.Signals
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "probe"\n')
    port, monitor_port = free_port(), free_port()
    with nats_command(
        "--port", str(port), "--monitor-port", str(monitor_port), cwd=tmp_path
    ) as command:
        url = f"nats://{HOST}:{port}"
        assert read_line(command, TIMEOUT) == f"agentgen nats listening on {url}"
        assert "JetStream store .agentgen/nats" in read_line(command, TIMEOUT)
        assert f"AGENTGEN_NATS_URL={url}" in read_line(command, TIMEOUT)
        assert await use_key_value(url) == b"world"
        healthz = f"http://{HOST}:{monitor_port}/healthz?js-enabled-only=true"
        with urllib.request.urlopen(healthz, timeout=TIMEOUT) as response:
            assert response.status == 200

        os.kill(command.pid, signum)
        assert command.wait(timeout=TIMEOUT) == 0
        assert command.stderr is not None
        stderr = command.stderr.read().decode()
    assert stderr == f"agentgen nats on {url} stopped\n"
    # The server went with the command, and kept its data in the default store.
    assert refuses_connections(port)
    store = tmp_path / ".agentgen" / "nats"
    assert (store / "jetstream").is_dir()
    assert "Server Exiting" in (store / "nats-server.log").read_text()


def test_a_busy_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli_process(
            "nats", "--port", str(port), "--store", "store", cwd=tmp_path
        )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"agentgen nats: error: cannot listen on {HOST}:")
    assert result.stderr.count("\n") == 1, result.stderr


def test_a_missing_server_binary_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "nats-server"
    result = run_cli_process(
        "nats",
        "--port",
        str(free_port()),
        cwd=tmp_path,
        env={NATS_SERVER_ENV: str(missing)},
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert str(missing) in result.stderr
    assert "pip install 'agentgen[nats-server]'" in result.stderr


def test_help_names_the_defaults(tmp_path: Path) -> None:
    result = run_cli_process("nats", "--help", cwd=tmp_path, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "Usage: agentgen nats" in result.stdout
    assert "4222" in result.stdout
    assert ".agentgen/nats" in result.stdout
