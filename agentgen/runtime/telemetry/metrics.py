"""A runtime's or host's metrics as data: what every exporter reads.

A :class:`MetricSet` lists counters and gauges (each a :class:`MetricSpec`
and a function reading the current value: nothing is counted twice) and
:class:`Histogram`\\ s, which are recorded as things happen (only while
metrics are on). The OpenTelemetry exporter (:mod:`.otel_metrics`) and the
Prometheus one (:mod:`.prometheus`) both read it. Standard library only.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["DURATION_BUCKETS", "Histogram", "MetricSet", "MetricSpec"]

DURATION_BUCKETS: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Histogram bucket bounds, in seconds."""
_SERIES_LIMIT: Final = 1000
_OTHER: Final = "(other)"

COUNTER: Final = "counter"
GAUGE: Final = "gauge"
HISTOGRAM: Final = "histogram"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric: dotted OpenTelemetry name, kind, unit, description."""

    name: str
    kind: str
    unit: str
    description: str

    @property
    def prometheus_name(self) -> str:
        """The Prometheus name (``_total`` and ``_bucket`` are added on export)."""
        base = self.name.replace(".", "_")
        return f"{base}_seconds" if self.unit == "s" else base


class Histogram:
    """Durations by one label (e.g. the agent type), in :data:`DURATION_BUCKETS`.

    ``instrument`` is the OpenTelemetry histogram each value also goes to,
    when that exporter is on.
    """

    __slots__ = ("instrument", "label", "series", "spec")

    def __init__(self, spec: MetricSpec, label: str) -> None:
        self.spec = spec
        self.label = label
        self.series: dict[str, list[float]] = {}
        """Per label value: a count per bucket (the last for +Inf), count, sum."""
        self.instrument: Any = None

    def record(self, seconds: float, label_value: str) -> None:
        """Add one value."""
        instrument = self.instrument
        if instrument is not None:
            instrument.record(seconds, {self.label: label_value})
        series = self.series.get(label_value)
        if series is None:
            if len(self.series) >= _SERIES_LIMIT:
                label_value = _OTHER
            series = self.series.setdefault(
                label_value, [0.0] * (len(DURATION_BUCKETS) + 3)
            )
        series[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
        series[-2] += 1
        series[-1] += seconds


class MetricSet:
    """The metrics of one runtime or host (see the module docstring)."""

    def __init__(self) -> None:
        self.readings: list[tuple[MetricSpec, Callable[[], float]]] = []
        """Counters and gauges, with what reads each."""
        self.histograms: list[Histogram] = []

    def add(self, spec: MetricSpec, read: Callable[[], float]) -> None:
        """A counter or gauge whose value ``read()`` returns."""
        self.readings.append((spec, read))

    def histogram(self, spec: MetricSpec, label: str) -> Histogram:
        """A new histogram of this set."""
        histogram = Histogram(spec, label)
        self.histograms.append(histogram)
        return histogram
