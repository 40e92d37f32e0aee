"""Traces, metrics and log context for agentgen's runtimes and host.

Transport-independent, and free when off: nothing here imports
OpenTelemetry until a runtime or host starts with tracing or metrics on
(:mod:`.switch`). :mod:`.tracing` makes the spans (AutoGen's names and
attributes), :mod:`.runtime_telemetry` puts them around a runtime's
messages, :mod:`.catalog` and :mod:`.metrics` define the metrics that
:mod:`.otel_metrics` and :mod:`.prometheus` export, and :mod:`.logs` gives
log records the agent, message and span they come from. The README's
"Observability" section is the user's manual.
"""

from .logs import RECORD_ATTRIBUTES, install_log_context, uninstall_log_context
from .switch import DISABLE_TRACING_VARIABLE, TelemetryOptions

__all__ = [
    "DISABLE_TRACING_VARIABLE",
    "RECORD_ATTRIBUTES",
    "TelemetryOptions",
    "install_log_context",
    "uninstall_log_context",
]
