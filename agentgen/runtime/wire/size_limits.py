"""Message size limits, applied identically by the host and the worker."""

from __future__ import annotations

from typing import Final

from ..errors import MessageTooLargeError

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "FRAME_HEADROOM",
    "check_frame_size",
    "check_payload_size",
    "forwarded_frame_limit",
    "frame_limit",
    "grpc_size_options",
]

DEFAULT_MAX_MESSAGE_SIZE: Final = 64 * 1024 * 1024
"""Largest payload (serialized message) accepted by default: 64 MiB."""

_BATCH_OVERHEAD: Final = 16
"""Room for the length prefix of a frame sent alone in a batch (batching.py)."""

_ID_REWRITE_ROOM: Final = 64
"""Room for the host's request ids, which can be longer than a caller's.

The host re-encodes a forwarded request with its own id: 12 hex digits, a
dash and a counter (at most 33 characters), plus a byte or two of the
enclosing lengths.
"""

FRAME_HEADROOM: Final = 1024 * 1024
"""Room for the envelope around a payload (ids, topic, attributes, metadata)."""


def frame_limit(max_message_size: int) -> int:
    """The largest gRPC frame allowed for payloads up to ``max_message_size``."""
    return max_message_size + FRAME_HEADROOM


def forwarded_frame_limit(max_message_size: int) -> int:
    """The largest frame the host may forward once it rewrote its request id.

    A request at the frame limit gains the host's longer id; a reply gets its
    caller's id back, which the caller chose and may be longer still, so the
    host checks what it forwards against this.
    """
    return frame_limit(max_message_size) + _ID_REWRITE_ROOM


def grpc_size_options(max_message_size: int) -> list[tuple[str, int]]:
    """gRPC channel/server options raising both send and receive limits."""
    if max_message_size <= 0:
        raise ValueError(f"max_message_size must be positive, got {max_message_size}")
    # A forwarded frame at its limit, in a batch of one, gains its length prefix.
    limit = forwarded_frame_limit(max_message_size) + _BATCH_OVERHEAD
    return [
        ("grpc.max_send_message_length", limit),
        ("grpc.max_receive_message_length", limit),
    ]


def check_payload_size(size: int, max_message_size: int, what: str) -> None:
    """Raise :class:`MessageTooLargeError` if a payload exceeds the limit."""
    if size > max_message_size:
        raise MessageTooLargeError(
            f"{what} is {size} bytes, over max_message_size={max_message_size}; "
            "raise max_message_size on the host and every worker to send it"
        )


def check_frame_size(size: int, max_message_size: int, what: str) -> None:
    """Raise :class:`MessageTooLargeError` if a whole frame exceeds the limit."""
    limit = frame_limit(max_message_size)
    if size > limit:
        raise MessageTooLargeError(
            f"{what} is a {size}-byte frame, over the {limit}-byte frame limit "
            f"(max_message_size={max_message_size} plus envelope headroom)"
        )
