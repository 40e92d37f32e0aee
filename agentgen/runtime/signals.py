"""Turning process signals into an asyncio event."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["STOP_SIGNALS", "signals_set"]

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)
"""The signals that stop a runtime or a host by default."""


@contextmanager
def signals_set(event: asyncio.Event, signals: Sequence[int]) -> Iterator[None]:
    """Within the block, each of ``signals`` sets ``event`` instead of its default.

    The loop's previous handling of those signals is restored on exit.
    """
    loop = asyncio.get_running_loop()
    for signum in signals:
        loop.add_signal_handler(signum, event.set)
    try:
        yield
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
