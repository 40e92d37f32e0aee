"""Running a program's main coroutine on the event loop of its choice.

:func:`run` is ``asyncio.run`` with a choice of loop: ``"asyncio"`` (the
standard library's), ``"uvloop"`` (``pip install 'agentgen[uvloop]'``), or
``"auto"`` (uvloop when it is installed, as uvicorn does). uvloop makes every
event-loop turn cheaper; agentgen's own hot paths take few turns, so the
benchmark scenarios change little on it (``bench/PROFILE.md``). Everything in
agentgen works on both loops.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys
from collections.abc import Callable, Coroutine
from typing import Any, Final, Literal, TypeVar, get_args

__all__ = [
    "LOOP_CHOICES",
    "EventLoopUnavailableError",
    "LoopChoice",
    "loop_factory",
    "run",
    "uvloop_installed",
]

LoopChoice = Literal["auto", "asyncio", "uvloop"]
LOOP_CHOICES: Final[tuple[str, ...]] = get_args(LoopChoice)
T = TypeVar("T")


class EventLoopUnavailableError(RuntimeError):
    """The event loop asked for cannot be used here (uvloop not installed)."""


def uvloop_installed() -> bool:
    """Whether uvloop can be imported (it does not exist on Windows)."""
    return sys.platform != "win32" and importlib.util.find_spec("uvloop") is not None


def loop_factory(
    choice: LoopChoice = "auto",
) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop factory for ``asyncio.Runner``; ``None`` means asyncio's own.

    Raises :class:`EventLoopUnavailableError` for ``"uvloop"`` when it is not
    installed, and ``ValueError`` for a choice not in :data:`LOOP_CHOICES`.
    """
    if choice not in LOOP_CHOICES:
        raise ValueError(
            f"unknown event loop {choice!r}: choose one of {', '.join(LOOP_CHOICES)}"
        )
    if choice == "asyncio" or (choice == "auto" and not uvloop_installed()):
        return None
    if not uvloop_installed():
        raise EventLoopUnavailableError(
            "the uvloop event loop is not installed: pip install 'agentgen[uvloop]' "
            "(not available on Windows), or choose the asyncio loop"
        )
    factory: Callable[[], asyncio.AbstractEventLoop] = importlib.import_module(
        "uvloop"
    ).new_event_loop
    return factory


def run(
    main: Coroutine[Any, Any, T],
    *,
    loop: LoopChoice = "auto",
    debug: bool | None = None,
) -> T:
    """Run ``main`` to completion on a new event loop of kind ``loop``.

    Like :func:`asyncio.run` (the loop is closed afterwards, pending tasks
    cancelled), with the loop chosen as :func:`loop_factory` says. ``main`` is
    closed without running if the loop cannot be made.
    """
    try:
        factory = loop_factory(loop)
    except BaseException:
        main.close()
        raise
    with asyncio.Runner(debug=debug, loop_factory=factory) as runner:
        return runner.run(main)
