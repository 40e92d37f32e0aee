"""A ``nats-server`` with JetStream on a free loopback port: the NATS systems' host.

Usage: ``nats_host.py`` (agentgen's venv with its ``nats-server`` extra).
Starts the server (store and log in a temporary folder), prints ``ready``
with its URL as the ``address``, and stops it by pid on ``stop``. The
server is what hosts: the CPU this child reports (``mark``, ``result``)
includes the server's, and its ``result`` gives the server's memory
(``rss_kib``, ``hwm_kib``) and CPU (``server_cpu``). Protocol: ``childio``.

The server is stopped by its pid whichever way this child ends: ``stop``,
stdin closed, or SIGTERM (what the runner sends a child it gives up on); if
this child is killed outright, the kernel sends the server SIGTERM
(``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import asyncio
import ctypes
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from childio import (
    Control,
    emit,
    free_port,
    memory_kib,
    process_cpu_seconds,
    run_child,
)

from agentgen.nats_server import (
    find_nats_server,
    nats_url,
    server_command,
    server_version,
    wait_until_ready,
)

HOST = "127.0.0.1"
SERVER_NAME = "agentgen-bench"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:
    """In the server, before it runs: SIGTERM when this child dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


async def run_host(control: Control) -> None:
    """Serve a nats-server until ``stop``; report its URL, CPU and memory."""
    executable = find_nats_server()
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with tempfile.TemporaryDirectory(prefix="agentgen-bench-nats-") as store:
        port = free_port()
        command = server_command(
            executable,
            host=HOST,
            port=port,
            store_dir=store,
            server_name=SERVER_NAME,
            log_file=Path(store) / "nats-server.log",
        )
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=_end_with_parent,
        )
        try:
            await asyncio.to_thread(
                wait_until_ready,
                process,
                host=HOST,
                port=port,
                server_name=SERVER_NAME,
                timeout=READY_TIMEOUT,
            )
            control.extra_cpu = lambda: process_cpu_seconds(process.pid)
            emit(
                "ready",
                address=nats_url(HOST, port),
                server=server_version(executable),
                t=time.monotonic(),
            )
            await control.expect("stop")
            cpu = control.cpu()
            server_cpu = process_cpu_seconds(process.pid)
            server_memory = memory_kib(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
    launcher = memory_kib()["rss_kib"]
    emit(
        "result",
        cpu=cpu,
        server_cpu=server_cpu,
        launcher_rss_kib=launcher,
        **server_memory,
    )


if __name__ == "__main__":
    run_child(run_host)
