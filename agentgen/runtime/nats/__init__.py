"""agentgen on NATS: workers that share agent types, with no host.

Needs the ``nats`` extra (``pip install 'agentgen[nats]'``, the nats-py
client) and a NATS server with JetStream (2.11.2 or newer): for development,
``agentgen nats`` starts one. See the README's "Scaling out on NATS".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .counters import NatsCounters
    from .runtime import NatsWorkerRuntime

__all__ = ["NatsCounters", "NatsWorkerRuntime"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import nats  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "agentgen's NATS transport needs the nats-py client: "
            "pip install 'agentgen[nats]'"
        ) from error
    from . import counters, runtime

    value = getattr(runtime if name == "NatsWorkerRuntime" else counters, name)
    globals()[name] = value
    return value
