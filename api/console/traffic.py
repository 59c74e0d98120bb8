"""The console's traffic panel: what the API's event files say about the last hour and day.

Every serving process writes its own events file (`movie_r.lifecycle.telemetry`), so "this process"
reads one file family and "all replicas" reads every file on the shared volume. Each
window is cut into fixed buckets; percentiles are per bucket, rates per minute.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from movie_r.storage.records import RequestEvent
from movie_r_api.console.charts import Chart, bar_chart, line_chart

SIMILARITY_BINS = 10


@dataclass(frozen=True)
class Window:
    name: str
    span: timedelta
    buckets: int

    @property
    def bucket_minutes(self) -> float:
        return self.span.total_seconds() / 60 / self.buckets


WINDOWS = (Window("last hour", timedelta(hours=1), 60), Window("last day", timedelta(days=1), 48))


@dataclass(frozen=True)
class Traffic:
    """One window's figures and charts for one scope (this process, or every replica)."""

    scope: str
    window: str
    requests: int
    errors: int
    cold_start_rate: float | None
    latency_p50: float | None
    latency_p99: float | None
    charts: list[Chart]


def traffic(events: Iterable[RequestEvent], window: Window, scope: str, now: datetime | None = None) -> Traffic:
    """Requests per minute, p50/p99 latency and cold-start rate per bucket; methods and similarities overall."""
    now = now or datetime.now(UTC)
    start = (now - window.span).timestamp()
    width = window.span.total_seconds() / window.buckets
    buckets: list[list[RequestEvent]] = [[] for _ in range(window.buckets)]
    for event in events:
        if event.endpoint == "recommend" and start <= event.timestamp <= now.timestamp():
            buckets[min(int((event.timestamp - start) // width), window.buckets - 1)].append(event)
    every = [e for bucket in buckets for e in bucket]
    served = [e for e in every if e.status == 200]
    latencies = [e.latency_ms for e in every if e.latency_ms is not None]
    ends = (_clock(now - window.span, window), _clock(now, window))
    per_minute = [len(bucket) / window.bucket_minutes for bucket in buckets]
    p50 = [_percentile(bucket, 50) for bucket in buckets]
    p99 = [_percentile(bucket, 99) for bucket in buckets]
    cold = [_cold_rate(bucket) for bucket in buckets]
    similarities = [e.mean_similarity for e in served if e.mean_similarity is not None and not e.cold_start]
    histogram, _ = np.histogram(similarities, bins=SIMILARITY_BINS, range=(0.0, 1.0))
    charts = [
        line_chart("Requests per minute", "req/min", {"requests": per_minute}, ends),
        line_chart("Latency", "ms", {"p50": p50, "p99": p99}, ends),
        line_chart("Cold-start rate", "share", {"cold starts": cold}, ends),
        bar_chart("Resolution methods", "requests", dict(sorted(Counter(e.method or "?" for e in served).items()))),
        bar_chart(
            "Similarity of answers",
            "requests",
            {f"{i / SIMILARITY_BINS:.1f}": float(c) for i, c in enumerate(histogram)},
            ("0", "1"),
        ),
    ]
    return Traffic(
        scope=scope,
        window=window.name,
        requests=len(every),
        errors=len(every) - len(served),
        cold_start_rate=_cold_rate(every),
        latency_p50=float(np.percentile(latencies, 50)) if latencies else None,
        latency_p99=float(np.percentile(latencies, 99)) if latencies else None,
        charts=charts,
    )


def _percentile(bucket: list[RequestEvent], q: float) -> float | None:
    latencies = [e.latency_ms for e in bucket if e.latency_ms is not None]
    return float(np.percentile(latencies, q)) if latencies else None


def _cold_rate(bucket: list[RequestEvent]) -> float | None:
    served = [e for e in bucket if e.status == 200]
    return sum(e.cold_start for e in served) / len(served) if served else None


def _clock(moment: datetime, window: Window) -> str:
    return moment.strftime("%H:%M" if window.span <= timedelta(hours=1) else "%d %b %H:%M")
