"""Connecting a worker to NATS: servers, TLS and credentials, reconnection.

Servers come from the argument or ``AGENTGEN_NATS_URL`` (comma-separated for
a cluster), default ``nats://127.0.0.1:4222``. TLS and every credential kind
nats-py knows (user and password, token, nkey seed, creds file) are passed
through. The client reconnects on its own (trying the other servers of the
list at once); agentgen counts the losses and resynchronises its routing
state after each reconnection.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .counters import NatsCounters

if TYPE_CHECKING:
    import ssl

    from nats.aio.client import Client as NatsClient

__all__ = ["DEFAULT_NATS_URL", "NATS_URL_VARIABLE", "NatsSettings", "connect"]

logger = logging.getLogger("agentgen.runtime.nats")

NATS_URL_VARIABLE = "AGENTGEN_NATS_URL"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


@dataclass(frozen=True)
class NatsSettings:
    """Where and how to connect (the connection options of ``NatsWorkerRuntime``)."""

    servers: tuple[str, ...]
    tls: ssl.SSLContext | None = None
    user: str | None = None
    password: str | None = None
    token: str | None = None
    nkeys_seed: str | None = None
    user_credentials: str | None = None
    connect_timeout: float = 10.0
    reconnect_wait: float = 1.0

    @classmethod
    def resolve(
        cls, servers: str | Sequence[str] | None, **options: Any
    ) -> NatsSettings:
        """Settings from ``servers`` (else ``AGENTGEN_NATS_URL``, else the default)."""
        if servers is None:
            servers = os.environ.get(NATS_URL_VARIABLE) or DEFAULT_NATS_URL
        listed = servers.split(",") if isinstance(servers, str) else list(servers)
        urls = tuple(url.strip() for url in listed if url.strip())
        if not urls:
            raise ValueError(f"no NATS server given (servers={servers!r})")
        for url in urls:
            if "://" not in url:
                raise ValueError(
                    f"invalid NATS server {url!r}: expected a URL such as "
                    f"{DEFAULT_NATS_URL}"
                )
        if options.get("connect_timeout", 1.0) <= 0:
            raise ValueError("connect_timeout must be positive")
        return cls(urls, **options)


async def connect(
    settings: NatsSettings,
    counters: NatsCounters,
    on_reconnected: Callable[[], Awaitable[None]],
    closing: Callable[[], bool],
) -> NatsClient:
    """A connected nats-py client; ``ConnectionError`` naming the servers if not."""
    from nats.aio.client import Client
    from nats.errors import SlowConsumerError

    errors: list[Exception] = []

    async def error_cb(error: Exception) -> None:
        errors[:] = [error]
        if isinstance(error, SlowConsumerError):
            counters.slow_consumer_drops += 1
            logger.error("NATS dropped a message for this slow worker: %s", error)
        else:
            logger.info("NATS client: %s", error)

    async def disconnected_cb() -> None:
        if closing():  # closed on purpose: nothing to say
            return
        logger.warning("disconnected from NATS; reconnecting")

    async def reconnected_cb() -> None:
        counters.reconnects += 1
        logger.warning("reconnected to NATS")
        await on_reconnected()

    options: dict[str, Any] = {
        "servers": list(settings.servers),
        "name": "agentgen worker",
        "connect_timeout": settings.connect_timeout,
        "reconnect_time_wait": settings.reconnect_wait,
        "max_reconnect_attempts": -1,
        "dont_randomize": True,
        "error_cb": error_cb,
        "disconnected_cb": disconnected_cb,
        "reconnected_cb": reconnected_cb,
        "allow_reconnect": True,
    }
    for name in ("tls", "user", "password", "token", "nkeys_seed", "user_credentials"):
        value = getattr(settings, name)
        if value is not None:
            options[name] = value
    client = Client()
    try:
        # The client would retry for ever (it does after a loss): the first
        # connection gets connect_timeout, and the last error it met, if any.
        await asyncio.wait_for(client.connect(**options), settings.connect_timeout)
        return client
    except Exception as error:
        cause = errors[-1] if errors and isinstance(error, TimeoutError) else error
        reason = f"{type(cause).__name__}: {cause}" if str(cause) else "timed out"
        raise ConnectionError(
            f"cannot connect to NATS at {', '.join(settings.servers)} within "
            f"{settings.connect_timeout:g} s: {reason}"
        ) from error
