"""Whether a runtime or host traces and measures: decided at its ``start()``.

Nothing here imports OpenTelemetry. Tracing is on when a tracer provider was
given, or when the application already imported ``opentelemetry.trace`` and
installed a real global provider (an SDK's); off when
``AUTOGEN_DISABLE_RUNTIME_TRACING=true`` (AutoGen's switch). Metrics
likewise, with the meter provider.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

__all__ = ["DISABLE_TRACING_VARIABLE", "TelemetryOptions"]

DISABLE_TRACING_VARIABLE: Final = "AUTOGEN_DISABLE_RUNTIME_TRACING"


class TelemetryOptions:
    """The telemetry options of one runtime or host (see the module docstring).

    ``links_only``: a handler's span links to the sender's instead of being
    its child (AutoGen's behaviour).
    """

    __slots__ = ("links_only", "meter_provider", "tracer_provider")

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        links_only: bool = False,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.links_only = links_only

    def tracer_provider_in_use(self) -> TracerProvider | None:
        """The provider to trace with now, or ``None``: tracing is off."""
        if os.environ.get(DISABLE_TRACING_VARIABLE) == "true":
            return None
        if self.tracer_provider is not None:
            return self.tracer_provider
        if "opentelemetry.trace" not in sys.modules:
            return None  # the application set up no OpenTelemetry: stay out
        from opentelemetry import trace

        provider = trace.get_tracer_provider()
        if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
            return None
        return provider

    def meter_provider_in_use(self) -> MeterProvider | None:
        """The provider to measure with now, or ``None``: no OpenTelemetry metrics."""
        if self.meter_provider is not None:
            return self.meter_provider
        if "opentelemetry.metrics" not in sys.modules:
            return None
        from opentelemetry import metrics

        provider = metrics.get_meter_provider()
        # The default global provider is a private proxy class: recognise it
        # by name rather than import it.
        if isinstance(provider, metrics.NoOpMeterProvider) or type(
            provider
        ).__name__.startswith("_Proxy"):
            return None
        return provider
