"""``agentgen host``: run a :class:`~agentgen.runtime.grpc.GrpcHost` until a signal."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import cast

from agentgen.cli.errors import CliError, UsageProblem
from agentgen.runtime.event_loop import (
    EventLoopUnavailableError,
    LoopChoice,
    loop_factory,
)
from agentgen.runtime.signals import STOP_SIGNALS, signals_set

__all__ = [
    "LISTENING_MESSAGE",
    "HostSettings",
    "TlsFiles",
    "configure_logging",
    "run_host",
]

LISTENING_MESSAGE = "agentgen host listening on {address}"
METRICS_MESSAGE = "agentgen host metrics on http://{address}/metrics"
SHARING_MESSAGE = {
    "exclusive": "agentgen host: one worker per agent type (--type-sharing exclusive)",
    "by-key": "agentgen host: agent types shared by key (--type-sharing by-key): each "
    "agent key is served by one of the workers of its type",
    "fan-out": "agentgen host: agent types shared (--type-sharing fan-out): events "
    "reach every worker of a subscribed type, RPCs one worker per key",
}

logger = logging.getLogger("agentgen.cli.host")


class TlsFiles:
    """The PEM files of ``--tls-cert/--tls-key/--tls-client-ca``, checked together."""

    def __init__(
        self, cert: Path | None, key: Path | None, client_ca: Path | None
    ) -> None:
        if cert is not None and key is None:
            raise UsageProblem("--tls-cert needs --tls-key as well")
        if key is not None and cert is None:
            raise UsageProblem("--tls-key needs --tls-cert as well")
        if client_ca is not None and cert is None:
            raise UsageProblem("--tls-client-ca needs --tls-cert and --tls-key")
        self.cert = cert
        self.key = key
        self.client_ca = client_ca

    @property
    def enabled(self) -> bool:
        """Whether the host serves TLS."""
        return self.cert is not None


class HostSettings:
    """What ``agentgen host`` was asked for (checked when the host is made)."""

    def __init__(
        self,
        address: str,
        tls_files: TlsFiles,
        max_message_size: int | None = None,
        auth_token: str | None = None,
        *,
        type_sharing: str = "exclusive",
        metrics_address: str | None = None,
    ) -> None:
        self.address = address
        self.tls_files = tls_files
        self.max_message_size = max_message_size
        self.auth_token = auth_token
        self.type_sharing = type_sharing
        self.metrics_address = metrics_address


def run_host(settings: HostSettings, *, loop: str = "auto") -> None:
    """Serve until SIGINT/SIGTERM; print the bound address once listening.

    ``loop`` is an :data:`~agentgen.runtime.event_loop.LOOP_CHOICES` entry;
    a bad or missing one is a usage error, raised before anything starts.
    """
    try:
        factory = loop_factory(cast(LoopChoice, loop))
    except (ValueError, EventLoopUnavailableError) as error:
        raise UsageProblem(f"--loop {loop}: {error}") from error
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(settings))


async def _serve(settings: HostSettings) -> None:
    from agentgen.runtime.grpc import GrpcHost, ServerTls
    from agentgen.runtime.grpc.protocol.auth import check_token

    address, tls_files = settings.address, settings.tls_files
    max_message_size, auth_token = settings.max_message_size, settings.auth_token

    tls = None
    if tls_files.cert is not None and tls_files.key is not None:
        try:
            tls = ServerTls.from_files(
                tls_files.cert, tls_files.key, tls_files.client_ca
            )
        except ValueError as error:
            raise UsageProblem(str(error)) from error
    if auth_token is not None:
        try:
            check_token(auth_token)
        except ValueError as error:
            raise UsageProblem(f"--auth-token: {error}") from error
    if settings.metrics_address is not None:
        _check_metrics_address(settings.metrics_address)
    try:
        host = (
            GrpcHost(
                address,
                tls=tls,
                auth_token=auth_token,
                type_sharing=settings.type_sharing,
                metrics_address=settings.metrics_address,
            )
            if max_message_size is None
            else GrpcHost(
                address,
                tls=tls,
                auth_token=auth_token,
                max_message_size=max_message_size,
                type_sharing=settings.type_sharing,
                metrics_address=settings.metrics_address,
            )
        )
    except ValueError as error:
        raise UsageProblem(f"--address: {error}") from error
    # Handlers go in before the address is announced, so a signal sent as soon
    # as the line is read still stops the host cleanly.
    stop = asyncio.Event()
    with signals_set(stop, STOP_SIGNALS):
        try:
            await host.start()
        except OSError as error:
            raise CliError(str(error)) from error
        loop_type = type(asyncio.get_running_loop())
        logger.info("event loop: %s.%s", loop_type.__module__, loop_type.__qualname__)
        print(LISTENING_MESSAGE.format(address=host.address), flush=True)
        if host.metrics_address is not None:
            print(METRICS_MESSAGE.format(address=host.metrics_address), flush=True)
        print(SHARING_MESSAGE[host.type_sharing.value], file=sys.stderr, flush=True)
        await stop.wait()
        await host.stop()
        print(f"agentgen host on {host.address} stopped", file=sys.stderr, flush=True)


def _check_metrics_address(metrics_address: str) -> None:
    """A usage error for a bad ``--metrics-address`` or a missing extra."""
    import importlib.util

    from agentgen.runtime.grpc.protocol.address import split_host_port

    try:
        split_host_port(metrics_address)
    except ValueError as error:
        raise UsageProblem(f"--metrics-address: {error}") from error
    if importlib.util.find_spec("prometheus_client") is None:
        raise CliError(
            "--metrics-address needs prometheus-client: pip install " "'agentgen[otel]'"
        )


def configure_logging(verbose: bool) -> None:
    """Log to stderr: warnings by default, everything from INFO with ``-v``."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
