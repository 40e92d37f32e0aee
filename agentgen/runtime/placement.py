"""Which of several workers serves an agent key: rendezvous hashing.

Every member gets a weight for a key, a stable hash of (member, key); the
member with the highest weight serves the key. Any process computes the same
answer from the same members; while the members stay the same a key stays
put, and when one leaves only its keys move (each to its own next best).
The weight does not depend on the agent type: workers serving the same types
serve the same keys of all of them, so one event for several of their types
goes to one worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

__all__ = ["rendezvous_choice", "rendezvous_weight"]


def rendezvous_weight(member: str, key: str) -> int:
    """The weight of ``member`` for ``key`` (stable across processes)."""
    digest = blake2b(
        member.encode() + b"\0" + key.encode(), digest_size=8, person=b"agentgen"
    ).digest()
    return int.from_bytes(digest, "big")


def rendezvous_choice(key: str, members: Iterable[str]) -> str:
    """The member that serves ``key``; ``ValueError`` if there is none."""
    best: str | None = None
    best_weight = -1
    for member in members:
        weight = rendezvous_weight(member, key)
        if weight > best_weight or (
            weight == best_weight and best is not None and member < best
        ):
            best, best_weight = member, weight
    if best is None:
        raise ValueError(f"no member to serve key {key!r}")
    return best
