"""Real ``nats-server`` processes for tests: one server, or a three-server cluster.

Every server listens on free loopback ports, keeps its JetStream store and
log under a folder the caller owns (a test's ``tmp_path``), and is stopped by
its pid. Every wait is bounded. The fixtures in ``conftest.py`` wrap these.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgen.nats_server import (
    HEALTHZ_JETSTREAM_ENABLED,
    HEALTHZ_JETSTREAM_READY,
    ClusterMember,
    NatsServerNotReadyError,
    find_nats_server,
    nats_url,
    server_command,
    wait_until_ready,
)

__all__ = [
    "HOST",
    "READY_TIMEOUT",
    "STOP_TIMEOUT",
    "NatsCluster",
    "NatsServer",
    "ServerSpec",
    "free_ports",
    "start_cluster",
    "start_server",
]

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
"""Seconds a server (or a cluster's meta leader) gets to become ready."""
STOP_TIMEOUT = 15.0
"""Seconds a server gets to exit after SIGTERM before it is killed."""
CLUSTER_NAME = "agentgen-test"


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free on loopback a moment ago."""
    with contextlib.ExitStack() as stack:
        probes = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            for _ in range(count)
        ]
        for probe in probes:
            probe.bind((HOST, 0))
        return [probe.getsockname()[1] for probe in probes]


@dataclass(frozen=True)
class ServerSpec:
    """Everything one server is started with; a restart reuses it unchanged."""

    name: str
    port: int
    monitor_port: int
    store_dir: Path
    log_file: Path
    cluster: ClusterMember | None = None
    extra_args: tuple[str, ...] = ()
    """More nats-server options, e.g. ``("--auth", TOKEN)``."""

    @property
    def url(self) -> str:
        """The client URL, ``nats://127.0.0.1:PORT``."""
        return nats_url(HOST, self.port)


@dataclass
class NatsServer:
    """One ``nats-server`` process started from a :class:`ServerSpec`."""

    spec: ServerSpec
    executable: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The client URL."""
        return self.spec.url

    @property
    def pid(self) -> int:
        """The running process's id."""
        if self.process is None:
            raise RuntimeError(f"{self.spec.name} is not running")
        return self.process.pid

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self.process is not None and self.process.poll() is None

    def start(self, healthz: str = HEALTHZ_JETSTREAM_ENABLED) -> None:
        """Start the process and wait until ``healthz`` answers (see
        :func:`~agentgen.nats_server.wait_until_ready`)."""
        self.launch()
        self.wait_ready(healthz)

    def launch(self) -> None:
        """Start the process, without waiting for it."""
        if self.running:
            raise RuntimeError(f"{self.spec.name} is already running")
        self.spec.store_dir.mkdir(parents=True, exist_ok=True)
        command = server_command(
            self.executable,
            host=HOST,
            port=self.spec.port,
            store_dir=self.spec.store_dir,
            server_name=self.spec.name,
            monitor_port=self.spec.monitor_port,
            cluster=self.spec.cluster,
            log_file=self.spec.log_file,
        )
        self.process = subprocess.Popen(
            [*command, *self.spec.extra_args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )

    def wait_ready(self, healthz: str = HEALTHZ_JETSTREAM_ENABLED) -> None:
        """Wait (bounded) until the launched server is ready; kill it if not."""
        if self.process is None:
            raise RuntimeError(f"{self.spec.name} was not started")
        try:
            wait_until_ready(
                self.process,
                host=HOST,
                port=self.spec.port,
                server_name=self.spec.name,
                monitor_port=self.spec.monitor_port,
                healthz=healthz,
                timeout=READY_TIMEOUT,
            )
        except NatsServerNotReadyError as error:
            self.kill()
            raise NatsServerNotReadyError(f"{error}\n{self.log_tail()}") from error

    def stop(self) -> int:
        """SIGTERM by pid, wait; SIGKILL if it outlives :data:`STOP_TIMEOUT`.

        Returns the exit code (negative: the signal that ended it).
        """
        process = self._take()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                return process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
        return process.wait(STOP_TIMEOUT)

    def kill(self) -> int:
        """SIGKILL by pid (a crash: no shutdown at all), and reap it."""
        process = self._take()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        return process.wait(STOP_TIMEOUT)

    def _take(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise RuntimeError(f"{self.spec.name} was not started")
        process, self.process = self.process, None
        return process

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the server's log, for failure messages."""
        try:
            text = self.spec.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"(no log at {self.spec.log_file})"
        return "\n".join(text.splitlines()[-lines:])


def start_server(
    folder: Path, name: str = "n1", extra_args: Sequence[str] = ()
) -> NatsServer:
    """Start one JetStream server with its store and log in ``folder``."""
    port, monitor_port = free_ports(2)
    spec = ServerSpec(
        name,
        port,
        monitor_port,
        folder / name / "store",
        folder / f"{name}.log",
        extra_args=tuple(extra_args),
    )
    server = NatsServer(spec, find_nats_server())
    server.start()
    return server


@dataclass
class NatsCluster:
    """JetStream servers routed to each other: one cluster."""

    servers: list[NatsServer]

    @property
    def urls(self) -> list[str]:
        """Every member's client URL (give them all to a client)."""
        return [server.url for server in self.servers]

    def index_of(self, name: str) -> int:
        """The position of the member whose server name is ``name``."""
        for index, server in enumerate(self.servers):
            if server.spec.name == name:
                return index
        raise KeyError(name)

    def kill(self, index: int) -> int:
        """SIGKILL member ``index`` by its pid (its store is kept)."""
        return self.servers[index].kill()

    def restart(self, index: int) -> None:
        """Start member ``index`` again with the same ports and store."""
        self.servers[index].start(HEALTHZ_JETSTREAM_READY)
        self.wait_for_peers()

    def wait_for_peers(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait until the meta leader sees every running member current.

        A healthy server only knows that a meta leader exists; until the
        leader has heard from every peer, creating an R3 stream can fail with
        "no suitable peers for placement".
        """
        running = {server.spec.name for server in self.servers if server.running}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._leader_sees(running):
                return
            time.sleep(0.05)  # bounded polling of the monitoring endpoint
        raise NatsServerNotReadyError(
            f"the meta leader did not see {sorted(running)} within {timeout:g}s"
        )

    def _leader_sees(self, names: set[str]) -> bool:
        for server in self.servers:
            if not server.running:
                continue
            meta = _meta_cluster(server.spec.monitor_port)
            if meta.get("leader") != server.spec.name:
                continue
            current = {
                replica["name"]
                for replica in meta.get("replicas", [])
                if replica.get("current") and not replica.get("offline")
            }
            return names - {server.spec.name} <= current
        return False

    def stop(self) -> None:
        """Stop every member still running, each by its pid."""
        for server in self.servers:
            if server.process is not None:
                server.stop()


def _meta_cluster(monitor_port: int) -> dict[str, Any]:
    """The ``meta_cluster`` section of a server's ``/jsz`` (empty if none)."""
    url = f"http://{HOST}:{monitor_port}/jsz"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            found = json.load(response).get("meta_cluster")
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _cluster_specs(folder: Path, size: int) -> Iterator[ServerSpec]:
    ports = free_ports(3 * size)
    client, route, monitor = ports[:size], ports[size : 2 * size], ports[2 * size :]
    for index in range(size):
        name = f"n{index + 1}"
        routes: Sequence[str] = [
            nats_url(HOST, route[other]) for other in range(size) if other != index
        ]
        yield ServerSpec(
            name,
            client[index],
            monitor[index],
            folder / name / "store",
            folder / f"{name}.log",
            ClusterMember(CLUSTER_NAME, route[index], tuple(routes)),
        )


def start_cluster(folder: Path, size: int = 3) -> NatsCluster:
    """Start ``size`` routed JetStream servers; return once a meta leader is known.

    All are started before any is waited for: a clustered server is healthy
    only once the JetStream meta group has a leader, which needs a quorum.
    """
    executable = find_nats_server()
    cluster = NatsCluster(
        [NatsServer(spec, executable) for spec in _cluster_specs(folder, size)]
    )
    try:
        for server in cluster.servers:
            server.launch()
        for server in cluster.servers:
            server.wait_ready(HEALTHZ_JETSTREAM_READY)
        cluster.wait_for_peers()
    except BaseException:
        cluster.stop()
        raise
    return cluster
