"""Which I/O engine grpc's core uses for agentgen's sockets.

grpcio 1.85 serves client and server sockets through its EventEngine by
default, which reads each socket on a thread pool of its own: every stream
message then takes one more thread hand-off before grpc.aio's poller thread
and the event loop see it. On the project's 2-core machines that doubles the
latency of a ``grpc.aio`` stream round trip (about 280 µs against 150 µs with
the POSIX poller, ``bench/PROFILE.md``), and a sequential RPC through the host
is four such hops.

grpc reads its experiment switches once, while ``grpc`` is imported, from the
``GRPC_EXPERIMENTS`` environment variable. :func:`import_grpc` imports
``grpc`` with the two EventEngine socket experiments switched off, then puts
the environment back as it was, so child processes inherit nothing. It
changes nothing when:

* ``grpc`` is already imported (it is too late; the process keeps grpc's
  defaults);
* ``GRPC_EXPERIMENTS`` is set, even to an empty string (the user chose:
  ``GRPC_EXPERIMENTS=`` keeps grpc's own defaults);
* the installed grpcio is outside :data:`TESTED_GRPCIO` (grpc logs an error
  for experiment names it does not know, so versions that may have dropped
  them are left alone).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from typing import Final

__all__ = [
    "EXPERIMENTS_VARIABLE",
    "POLLER_EXPERIMENTS",
    "TESTED_GRPCIO",
    "import_grpc",
    "installed_grpcio_version",
    "poller_applies",
    "wants_poller",
]

EXPERIMENTS_VARIABLE: Final = "GRPC_EXPERIMENTS"
POLLER_EXPERIMENTS: Final = "-event_engine_client,-event_engine_listener"
"""The value of ``GRPC_EXPERIMENTS`` that puts client and server sockets on
grpc's POSIX poller."""

TESTED_GRPCIO: Final = ((1, 85), (1, 90))
"""grpcio versions (``major, minor``; from inclusive, to exclusive) whose
experiment names are known to include both switches."""

_VERSION_LINE = re.compile(r'__version__\s*=\s*"""(\d+)\.(\d+)')


def installed_grpcio_version() -> tuple[int, int] | None:
    """grpcio's ``(major, minor)``, read without importing ``grpc``."""
    spec = importlib.util.find_spec("grpc")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        # os.path, not pathlib: an installed agentgen's worker imports nothing
        # else that needs pathlib, which costs milliseconds at start.
        try:
            with open(
                os.path.join(folder, "_grpcio_metadata.py"), encoding="utf-8"
            ) as metadata:
                text = metadata.read()
        except OSError:
            continue
        found = _VERSION_LINE.search(text)
        if found is not None:
            return int(found.group(1)), int(found.group(2))
    return None


def poller_applies() -> bool:
    """Whether a process that imports ``grpc`` now would get the poller.

    That is: the user has not set ``GRPC_EXPERIMENTS`` and the installed
    grpcio is a tested one (whether ``grpc`` is imported already aside).
    """
    if EXPERIMENTS_VARIABLE in os.environ:
        return False
    version = installed_grpcio_version()
    low, high = TESTED_GRPCIO
    return version is not None and low <= version < high


def wants_poller() -> bool:
    """Whether :func:`import_grpc` would switch the experiments (see above)."""
    return "grpc" not in sys.modules and poller_applies()


def import_grpc() -> None:
    """Import ``grpc``, on the POSIX poller when :func:`wants_poller`."""
    if not wants_poller():
        importlib.import_module("grpc")
        return
    os.environ[EXPERIMENTS_VARIABLE] = POLLER_EXPERIMENTS
    try:
        importlib.import_module("grpc")
    finally:
        os.environ.pop(EXPERIMENTS_VARIABLE, None)
