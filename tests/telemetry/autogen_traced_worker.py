"""The interop tests' AutoGen 0.7.5 worker, tracing to memory.

Runs ``tests/interop/peers/autogen_worker.py`` (same arguments, commands and
events) after installing the OpenTelemetry SDK as the global tracer
provider, so that AutoGen's runtime traces; once it stopped, prints its
finished spans (``{"event": "spans", ...}``). Runs with the AutoGen venv's
Python, ``tests/interop/peers`` and this folder on ``PYTHONPATH``.
"""

# AutoGen and the peer modules exist only in the AutoGen venv's path:
# mypy: disable-error-code="import-not-found"

from __future__ import annotations

import asyncio

from tests.telemetry.span_dump import span_dict, use_memory_exporter

exporter = use_memory_exporter()  # before AutoGen's runtime reads the provider

import autogen_worker  # noqa: E402
from peer_io import emit  # noqa: E402

if __name__ == "__main__":
    asyncio.run(autogen_worker.main())
    emit("spans", spans=[span_dict(span) for span in exporter.get_finished_spans()])
