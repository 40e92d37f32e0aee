"""A :class:`~.metrics.MetricSet` in Prometheus text format, served over HTTP.

:class:`MetricsServer` answers ``GET /metrics`` from the event loop of the
host it belongs to (no thread: values are read where they change). It
speaks just enough HTTP/1.1 for scrapers: one request per connection.
Needs ``prometheus-client`` (``agentgen[otel]``), imported only when a
metrics address is given.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Final

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from .metrics import COUNTER, DURATION_BUCKETS, MetricSet

__all__ = ["MetricsServer", "render"]

_REQUEST_SECONDS: Final = 10.0
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
"""The text format every Prometheus version reads (names here are ASCII)."""
_BOUNDS: Final = [*(f"{bound:g}" for bound in DURATION_BUCKETS), "+Inf"]


class _Collector:
    """Reads a metric set at each scrape (prometheus-client's collector shape)."""

    def __init__(self, metric_set: MetricSet) -> None:
        self._set = metric_set

    def collect(self) -> Iterator[Metric]:
        for spec, read in self._set.readings:
            family = CounterMetricFamily if spec.kind == COUNTER else GaugeMetricFamily
            yield family(spec.prometheus_name, spec.description, value=read())
        for histogram in self._set.histograms:
            spec = histogram.spec
            metric = HistogramMetricFamily(
                spec.prometheus_name, spec.description, labels=[histogram.label]
            )
            for label_value, series in sorted(histogram.series.items()):
                cumulative, buckets = 0.0, []
                for bound, count in zip(_BOUNDS, series, strict=False):
                    cumulative += count
                    buckets.append((bound, cumulative))
                metric.add_metric([label_value], buckets, series[-1])
            yield metric


def render(metric_set: MetricSet) -> bytes:
    """The current values of ``metric_set`` in Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metric_set))
    return generate_latest(registry)


class MetricsServer:
    """Serves ``/metrics`` on ``host``, ``port`` (port 0: see :attr:`address`)."""

    def __init__(self, host: str, port: int, metric_set: MetricSet) -> None:
        self._host = host
        self._port = port
        self._set = metric_set
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        """``host:port`` served (the real port once started)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self._port}"

    async def start(self) -> None:
        """Listen; :class:`OSError` naming the address when that fails."""
        try:
            self._server = await asyncio.start_server(
                self._serve, self._host, self._port
            )
        except OSError as error:
            raise OSError(
                f"cannot serve metrics on {self.address}: {error.strerror or error}"
            ) from error
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            async with asyncio.timeout(_REQUEST_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
                method, status, kind, body = self._respond(head)
                header = (
                    f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                )
                writer.write(header.encode("ascii"))
                if method != b"HEAD":
                    writer.write(body)
                await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.LimitOverrunError:
            pass  # a request head over 64 KiB: not a scraper
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _respond(self, head: bytes) -> tuple[bytes, str, str, bytes]:
        """The method, and the status, content type and body to answer with."""
        parts = head.split(b"\r\n", 1)[0].split()
        method = parts[0] if parts else b""
        path = parts[1].split(b"?", 1)[0] if len(parts) > 1 else b""
        if method not in (b"GET", b"HEAD"):
            return method, "405 Method Not Allowed", "text/plain", b""
        if path != b"/metrics":
            return method, "404 Not Found", "text/plain", b"see /metrics\n"
        return method, "200 OK", CONTENT_TYPE, render(self._set)
