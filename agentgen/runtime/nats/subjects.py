"""The names agentgen uses on NATS: subjects, the KV bucket, its keys, headers.

One *namespace* (default ``agentgen``) is one deployment: its workers share
the bucket ``<namespace>`` and the subjects ``<namespace>.w.<worker>.*``.
Agent types and keys may hold characters NATS does not allow in tokens
(dots, spaces, any Unicode), so they travel base64url-encoded in KV keys and
as plain text in headers.
"""

from __future__ import annotations

import base64
import re
from typing import Final

__all__ = [
    "DEFAULT_NAMESPACE",
    "HOPS_HEADER",
    "Subjects",
    "decode_name",
    "encode_name",
]

DEFAULT_NAMESPACE: Final = "agentgen"
HOPS_HEADER: Final = "Agentgen-Hops"
"""How many times a worker forwarded this message to the key's owner."""

_NAMESPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_WORKER_PREFIX: Final = "w."
_STATE_PREFIX: Final = "s."


def encode_name(name: str) -> str:
    """``name`` as a NATS token and KV key part (base64url, no padding)."""
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")


def decode_name(token: str) -> str:
    """The name :func:`encode_name` encoded (``ValueError`` if it is not one)."""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"not an encoded name: {token!r}") from error


class Subjects:
    """The subjects and KV keys of one namespace."""

    __slots__ = ("bucket", "kv_prefix", "namespace")

    def __init__(self, namespace: str = DEFAULT_NAMESPACE) -> None:
        if not _NAMESPACE.fullmatch(namespace):
            raise ValueError(
                f"invalid NATS namespace {namespace!r}: use 1 to 64 letters, "
                "digits, '_' and '-'"
            )
        self.namespace = namespace
        self.bucket = namespace
        """The JetStream key-value bucket holding the routing state."""
        self.kv_prefix = f"$KV.{namespace}."
        """The subject prefix of the bucket's keys (JetStream's KV layout)."""

    def events(self, worker_id: str) -> str:
        """Where a worker receives the events routed to it."""
        return f"{self.namespace}.w.{worker_id}.ev"

    def requests(self, worker_id: str) -> str:
        """Where a worker receives the RPC requests routed to it."""
        return f"{self.namespace}.w.{worker_id}.rpc"

    @staticmethod
    def worker_key(worker_id: str) -> str:
        """The KV key of a worker's registration (its lease)."""
        return f"{_WORKER_PREFIX}{worker_id}"

    @staticmethod
    def state_key(agent_type: str, key: str) -> str:
        """The KV key of an agent's handed-over state."""
        return f"{_STATE_PREFIX}{encode_name(agent_type)}.{encode_name(key)}"

    @staticmethod
    def parse_key(kv_key: str) -> tuple[str, tuple[str, ...]] | None:
        """``("worker", (id,))``, ``("state", (type, key))`` or ``None``."""
        if kv_key.startswith(_WORKER_PREFIX):
            return "worker", (kv_key[len(_WORKER_PREFIX) :],)
        if kv_key.startswith(_STATE_PREFIX):
            parts = kv_key[len(_STATE_PREFIX) :].split(".")
            if len(parts) == 2:
                try:
                    return "state", (decode_name(parts[0]), decode_name(parts[1]))
                except ValueError:
                    return None
        return None
