"""A :class:`~.metrics.MetricSet` through the OpenTelemetry metrics API.

Counters and gauges become observable instruments whose callbacks read the
current values at each collection (nothing is recorded between two);
histograms become OpenTelemetry histograms that each value also goes to.
Imported only when metrics are on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation

from ... import __version__
from .metrics import COUNTER, DURATION_BUCKETS, MetricSet

__all__ = ["export_metrics"]


def export_metrics(metric_set: MetricSet, provider: MeterProvider, scope: str) -> None:
    """Create an instrument for every metric of ``metric_set`` on ``provider``."""
    meter = provider.get_meter(scope, __version__)
    for spec, read in metric_set.readings:
        callbacks = [_observing(read)]
        if spec.kind == COUNTER:
            meter.create_observable_counter(
                spec.name, callbacks, spec.unit, spec.description
            )
        else:
            meter.create_observable_gauge(
                spec.name, callbacks, spec.unit, spec.description
            )
    for histogram in metric_set.histograms:
        spec = histogram.spec
        histogram.instrument = meter.create_histogram(
            spec.name,
            spec.unit,
            spec.description,
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )


def _observing(
    read: Callable[[], float],
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        return (Observation(read()),)

    return observe
