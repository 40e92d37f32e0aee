"""``agentgen nats``: a development ``nats-server`` with JetStream, until a signal.

The server runs as a child in its own session (a Ctrl-C in the terminal
reaches only this command), logs to a file beside its store, and is stopped
by its pid: SIGTERM, then SIGKILL if it has not exited in time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from agentgen.cli.errors import CliError
from agentgen.cli.project import project_folder
from agentgen.cli.protoc import display_path
from agentgen.nats_server import (
    HEALTHZ_JETSTREAM_ENABLED,
    NATS_URL_ENV,
    NatsServerNotFoundError,
    NatsServerNotReadyError,
    find_nats_server,
    nats_url,
    server_command,
    server_version,
    stop_server,
    wait_until_ready,
)

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_STORE",
    "LISTENING_MESSAGE",
    "SERVER_NAME",
    "run_dev_server",
]

DEFAULT_PORT = 4222
DEFAULT_STORE = Path(".agentgen") / "nats"
"""The JetStream store, relative to the project folder."""
LISTENING_MESSAGE = "agentgen nats listening on {url}"
SERVER_NAME = "agentgen-dev"
LOG_NAME = "nats-server.log"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_dev_server(
    host: str,
    port: int,
    store: Path | None,
    executable: Path | None = None,
    monitor_port: int | None = None,
) -> None:
    """Serve on ``host:port`` until SIGINT/SIGTERM; print the URL once ready."""
    try:
        binary = find_nats_server(executable)
        version = server_version(binary)
    except (NatsServerNotFoundError, subprocess.TimeoutExpired) as error:
        raise CliError(str(error)) from error
    store = store if store is not None else project_folder(Path.cwd()) / DEFAULT_STORE
    store.mkdir(parents=True, exist_ok=True)
    log_file = store / LOG_NAME
    log_file.unlink(missing_ok=True)  # errors are then this run's only
    _require_free(host, port)
    if monitor_port is not None:
        _require_free(host, monitor_port)
    url = nats_url(host, port)
    command = server_command(
        binary,
        host=host,
        port=port,
        store_dir=store,
        server_name=SERVER_NAME,
        monitor_port=monitor_port,
        log_file=log_file,
    )
    stop = threading.Event()
    with _signals_set(stop):
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_ready(process, host, port, monitor_port, log_file)
            print(LISTENING_MESSAGE.format(url=url), flush=True)
            print(
                f"  nats-server {version}, JetStream store {display_path(store)}, "
                f"log {display_path(log_file)}",
                flush=True,
            )
            print(
                f"  point a runtime at it: export {NATS_URL_ENV}={url}  "
                "(stop with Ctrl-C)",
                flush=True,
            )
            while not stop.wait(0.2):
                code = process.poll()
                if code is not None:
                    raise CliError(
                        f"nats-server exited with code {code}"
                        f"{_last_error(log_file)}; log: {display_path(log_file)}"
                    )
        finally:
            stop_server(process, STOP_TIMEOUT)
    print(f"agentgen nats on {url} stopped", file=sys.stderr, flush=True)


@contextmanager
def _signals_set(event: threading.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``event`` within the block (then as before)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        event.set()

    previous = {signum: signal.signal(signum, handle) for signum in _STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _require_free(host: str, port: int) -> None:
    """Fail with one line if something already listens on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name != "nt":  # as nats-server does: a port in TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise CliError(
                f"cannot listen on {host}:{port}: {error.strerror or error} "
                "(choose another with --port / --monitor-port)"
            ) from error


def _wait_ready(
    process: subprocess.Popen[bytes],
    host: str,
    port: int,
    monitor_port: int | None,
    log_file: Path,
) -> None:
    try:
        wait_until_ready(
            process,
            host=host,
            port=port,
            server_name=SERVER_NAME,
            monitor_port=monitor_port,
            healthz=HEALTHZ_JETSTREAM_ENABLED,
            timeout=READY_TIMEOUT,
        )
    except NatsServerNotReadyError as error:
        raise CliError(
            f"{error}{_last_error(log_file)}; log: {display_path(log_file)}"
        ) from error


def _last_error(log_file: Path) -> str:
    """``: <message>`` of the log's last fatal or error line, if any."""
    try:
        lines = log_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        for level in ("[FTL] ", "[ERR] "):
            if level in line:
                return ": " + line.split(level, 1)[1].strip()
    return ""
