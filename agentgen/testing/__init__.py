"""Testing agentgen agents: a pytest plugin, a delivery recorder, a handler harness.

Install with ``pip install 'agentgen[testing]'``; the plugin
(:mod:`agentgen.testing.plugin`) is then loaded by pytest and brings the
fixtures ``agentgen_runtime``, ``agentgen_host``, ``agentgen_worker``,
``agentgen_nats_server``, ``agentgen_nats_worker`` and
``agentgen_deliveries``. Outside fixtures:

* :class:`Deliveries` records what the agents of runtimes handle and waits
  until enough matching messages were handled;
* :class:`HandlerHarness` runs one agent's handlers without a runtime, on a
  :class:`RecordingRuntime` that records what they publish and send.

The names below are imported lazily, so that loading the plugin imports
neither the runtimes nor grpc.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .deadlines import DEFAULT_TIMEOUT
    from .deliveries import Deliveries, Delivery
    from .harness import HandlerHarness
    from .recording import (
        Published,
        RecordingRuntime,
        Responder,
        Sent,
        UnexpectedSendError,
    )
    from .workers import NatsWorkerFactory, WorkerFactory

__all__ = [
    "DEFAULT_TIMEOUT",
    "Deliveries",
    "Delivery",
    "HandlerHarness",
    "NatsWorkerFactory",
    "Published",
    "RecordingRuntime",
    "Responder",
    "Sent",
    "UnexpectedSendError",
    "WorkerFactory",
]

_LAZY: dict[str, str] = {
    "DEFAULT_TIMEOUT": "deadlines",
    "Deliveries": "deliveries",
    "Delivery": "deliveries",
    "HandlerHarness": "harness",
    "WorkerFactory": "workers",
    "NatsWorkerFactory": "workers",
    "Published": "recording",
    "RecordingRuntime": "recording",
    "Responder": "recording",
    "Sent": "recording",
    "UnexpectedSendError": "recording",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
