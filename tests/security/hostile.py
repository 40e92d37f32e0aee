"""Helpers of the security and fuzz tests: peers that send what they like.

The raw wire-protocol peer and agents of the gRPC tests (``tests.support``)
are reused and re-exported; :class:`TokenPeer` adds an ``authorization``
header to every call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from agentgen.runtime.grpc.protocol.auth import authorization_metadata
from tests.support.agents import Arrivals, Collector
from tests.support.grpc_harness import (
    RawPeer,
    bounded,
    event_message,
    request_message,
    running_worker,
    wait_until,
)

__all__ = [
    "Arrivals",
    "Collector",
    "LogRecords",
    "RawPeer",
    "TokenPeer",
    "bounded",
    "event_message",
    "recorded_logs",
    "request_message",
    "running_worker",
    "wait_until",
]


class TokenPeer(RawPeer):
    """A raw peer sending ``authorization: Bearer <token>`` (or nothing)."""

    def __init__(
        self, address: str, token: str | None, client_id: str | None = None
    ) -> None:
        super().__init__(address, client_id)
        self.token = token

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        base = super().metadata
        return (
            base if self.token is None else (*base, authorization_metadata(self.token))
        )


class LogRecords(logging.Handler):
    """Every record agentgen's loggers emit while installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self, level: int = logging.DEBUG) -> list[str]:
        """The formatted messages (with any traceback) at ``level`` or above."""
        return [
            record.getMessage()
            + (
                "\n" + logging.Formatter().formatException(record.exc_info)
                if record.exc_info
                else ""
            )
            for record in self.records
            if record.levelno >= level
        ]

    def matching(self, fragment: str, level: int = logging.WARNING) -> list[str]:
        """The messages at ``level`` or above that contain ``fragment``."""
        return [text for text in self.texts(level) if fragment in text]


@contextmanager
def recorded_logs(level: int = logging.DEBUG) -> Iterator[LogRecords]:
    """Record what the ``agentgen`` loggers emit at ``level`` and above."""
    logger = logging.getLogger("agentgen")
    handler = LogRecords()
    old_level = logger.level
    logger.setLevel(level)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
