"""How long the helpers of :mod:`agentgen.testing` wait, and how they give up.

Imports nothing heavy, like the plugin that uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

__all__ = ["DEFAULT_TIMEOUT", "START_TIMEOUT", "STOP_TIMEOUT", "deadline"]

DEFAULT_TIMEOUT = 10.0
"""Seconds a wait for deliveries or a harnessed handler lasts unless told otherwise."""
START_TIMEOUT = 30.0
"""Seconds a fixture's runtime, host or worker may take to start."""
STOP_TIMEOUT = 30.0
"""Seconds a fixture's runtime, host or worker may take to stop."""


@contextlib.asynccontextmanager
async def deadline(
    timeout: float, failure: str | Callable[[], str]
) -> AsyncIterator[None]:
    """Bound the block to ``timeout`` seconds: then fail with ``failure``.

    The block is cancelled and ``AssertionError(failure)`` raised (``failure()``
    if it is callable: a report made when the time is up); a
    ``TimeoutError`` of the block's own (an ``RpcTimeoutError``, say) passes.
    """
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            yield
    except TimeoutError:
        if not scope.expired():
            raise
        raise AssertionError(
            failure if isinstance(failure, str) else failure()
        ) from None
