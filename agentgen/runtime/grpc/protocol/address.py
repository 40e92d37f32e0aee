"""Host addresses: ``host:port``, with IPv6 hosts in brackets."""

from __future__ import annotations

import os

__all__ = [
    "AGENT_HOST_ENV",
    "DEFAULT_WORKER_TARGET",
    "resolve_worker_target",
    "split_host_port",
]

AGENT_HOST_ENV = "AGENT_HOST"
DEFAULT_WORKER_TARGET = "localhost:53071"
_SCHEMES = ("http://", "https://")


def split_host_port(address: str) -> tuple[str, int]:
    """Split ``"host:port"`` / ``"[v6]:port"``; the host comes back unbracketed."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(
            f"invalid address {address!r}: expected host:port, e.g. 127.0.0.1:53071"
        )
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port_text)


def resolve_worker_target(host_address: str | None) -> tuple[str, bool]:
    """The ``host:port`` a worker connects to, and whether ``https://`` was given.

    From the argument, else the ``AGENT_HOST`` environment variable, else
    ``localhost:53071``; an ``http://`` or ``https://`` scheme and a trailing
    ``/`` are stripped (the .NET tooling writes addresses that way).
    """
    address = host_address or os.environ.get(AGENT_HOST_ENV) or DEFAULT_WORKER_TARGET
    source = "host_address" if host_address else AGENT_HOST_ENV
    address = address.strip()
    https = False
    for scheme in _SCHEMES:
        if address.lower().startswith(scheme):
            address = address[len(scheme) :]
            https = scheme == "https://"
            break
    address = address.rstrip("/")
    try:
        split_host_port(address)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None
    return address, https
