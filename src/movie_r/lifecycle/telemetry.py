"""Runtime events of the API, persisted as JSON lines, and their summary for the agent.

Each serving process writes its own `metrics/events/<host>-<pid>.jsonl`, so workers and
replicas on one shared volume never interleave writes. Requests only serialise their
event (one call of orjson) into an in-memory buffer; a background thread flushes it at least
every second and at shutdown, rotating files by size. When the disk is full or the
directory unwritable, events are dropped and counted — a request never fails because its
metrics could not be written.

The API hands `emit` the fields a request set, as a dict, rather than a `RequestEvent`:
building and serialising the model on every request was a large share of a cached answer's
cost (docs/benchmarks.md, "Request kinds", has the figures). The line is the same record; readers
validate it as one, with the model's defaults for the fields left out.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from movie_r.answering.titles import TitleIndex
from movie_r.errors import ArtifactError
from movie_r.periodic import Periodic
from movie_r.storage import journal
from movie_r.storage.files import write_text_atomic
from movie_r.storage.layout import MetricsLayout
from movie_r.storage.records import FeedbackEvent, FeedbackStats, RequestEvent, Summary, UnknownQuery, validated
from movie_r.storage.registry import Registry

log = logging.getLogger(__name__)

NEGATIVE_ACTIONS = frozenset({"dislike"})
POSITIVE_ACTIONS = frozenset({"like", "watched"})
UNJUDGED_ACTIONS = frozenset({"click"})  # online experiments credit clicks; the feedback trigger counts judgements
RATING_COLUMNS = ["user_id", "movie_id", "rating", "timestamp"]
MAX_EXAMINED = 200  # the most asked cold-start queries compared with the titles, at most


class EventWriter:
    """Buffered, per-process JSON-lines writer with size rotation and a dropped-event count."""

    def __init__(
        self,
        directory: Path,
        flush_interval: float = 1.0,
        rotate_bytes: int = 50 << 20,
        max_buffer: int = 100_000,
        retention_days: float = 14.0,
    ) -> None:
        self.directory = Path(directory)
        self.rotate_bytes = rotate_bytes
        self.retention_days = retention_days
        self.max_buffer = max_buffer
        self.path = self.directory / f"{socket.gethostname()}-{os.getpid()}.jsonl"
        self.dropped = 0
        self.written = 0
        self._buffer: list[bytes] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._flusher = Periodic("event-writer", flush_interval, self.flush)

    def emit(self, event: RequestEvent | dict[str, Any]) -> None:
        """Queue one event as its JSON line; O(1), never raises, never touches the disk.

        A dict holds fields of `RequestEvent` by name (tests/api check the API's against the model).

        Serialising here rather than in the flusher keeps the flusher from holding the GIL
        for a Python loop over a second's events (it only joins bytes), and buffered bytes
        give the garbage collector nothing to scan.
        """
        try:
            line = journal.encode(event)
        except TypeError as exc:  # an extra field JSON cannot hold
            with self._lock:
                self.dropped += 1
            log.error("event dropped: not serialisable reason=%r", exc)
            return
        with self._lock:
            if len(self._buffer) >= self.max_buffer:
                self.dropped += 1
                return
            self._buffer.append(line)

    def start(self) -> None:
        journal.remove_expired(self.directory, self.retention_days, keep=self.path)  # what finished processes left
        self._flusher.start()

    def close(self) -> None:
        """Stop the flusher and write what is still buffered."""
        self._flusher.stop(timeout=10)
        self.flush()

    def flush(self) -> None:
        with self._flush_lock:
            with self._lock:
                pending, self._buffer = self._buffer, []
            if not pending:
                return
            payload = b"".join(pending)
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                journal.rotate_if_large(self.path, self.rotate_bytes, self.retention_days)
                journal.append(self.path, payload)
                self.written += len(pending)
            except OSError as exc:
                with self._lock:
                    self.dropped += len(pending)
                log.warning("events dropped=%d total_dropped=%d path=%s reason=%r", len(pending), self.dropped, self.path, exc)


def read_events(metrics_dir: Path, since: datetime, process: str | None = None) -> Iterator[RequestEvent]:
    """Events of every process (rotated files included) at or after `since`; with `process`
    (an `EventWriter`'s file stem, `<host>-<pid>`), that process's only."""
    yield from _read_records(MetricsLayout(Path(metrics_dir)).events, since, RequestEvent, process)


def read_feedback(metrics_dir: Path, since: datetime, per_source: int | None = None) -> list[FeedbackEvent]:
    """Feedback the API recorded (every process) at or after `since`: one per request, action and movie,
    and with `per_source`, at most that many from any one client, so no client alone can fire
    the feedback trigger or fill the training data."""
    seen: set[tuple[str, str, int]] = set()
    counts: Counter[str] = Counter()
    kept = []
    for event in _read_records(MetricsLayout(Path(metrics_dir)).feedback, since, FeedbackEvent):
        key = (event.request_id, event.action, event.movie_id)
        if key in seen or (per_source is not None and counts[event.source] >= per_source):
            continue
        seen.add(key)
        counts[event.source] += 1
        kept.append(event)
    return kept


def feedback_stats(feedback: Iterable[FeedbackEvent]) -> FeedbackStats:
    """Counts by action and the share of negative ones among judgements (a click judges nothing)."""
    actions = Counter(event.action for event in feedback)
    total = sum(count for action, count in actions.items() if action not in UNJUDGED_ACTIONS)
    negative = sum(actions[action] for action in NEGATIVE_ACTIONS)
    return FeedbackStats(total=total, by_action=dict(actions), negative_share=negative / total if total else 0.0)


def feedback_positives(metrics_dir: Path, per_source: int | None = None) -> pd.DataFrame:
    """Positive feedback as ratings the collaborative models can learn from.

    Each liked (or watched) recommendation becomes a tiny pseudo-user who liked both the
    movie the request resolved to and the recommended one, in that order — the same
    "people who liked X also liked Y" evidence a rating history gives.
    """
    epoch = datetime.fromtimestamp(0, UTC)
    liked = [f for f in read_feedback(metrics_dir, epoch, per_source) if f.action in POSITIVE_ACTIONS]
    if not liked:
        return pd.DataFrame(columns=RATING_COLUMNS)
    wanted = {f.request_id for f in liked}
    matches = {
        e.request_id: e.match_id
        for e in read_events(metrics_dir, epoch)
        if e.request_id in wanted and e.match_id is not None
    }
    rows = []
    for feedback in liked:
        source = matches.get(feedback.request_id)
        if source is not None and source != feedback.movie_id:
            user = f"feedback:{feedback.request_id}:{feedback.movie_id}"
            rows += [(user, source, 5.0, 0.0), (user, feedback.movie_id, 5.0, 1.0)]
    return pd.DataFrame(rows, columns=RATING_COLUMNS)


Event = TypeVar("Event", RequestEvent, FeedbackEvent)


def _read_records(directory: Path, since: datetime, record: type[Event], process: str | None = None) -> Iterator[Event]:
    """The records of every `*.jsonl` in `directory` at or after `since`; a line that is not
    one (torn by a crashed writer, or hand-edited) is skipped and counted."""
    cutoff = since.timestamp()
    skipped = 0
    for path in journal.files_written_since(directory, cutoff):  # nothing in a file last written before the window
        if process is not None and not path.name.startswith(f"{process}."):  # <host>-<pid>[.<rotated>].jsonl
            continue
        try:
            found = journal.read_records(path)
        except OSError:
            continue  # unreadable now; a file rotated away meanwhile reads as empty
        events, invalid = validated(found.records, record)
        skipped += found.skipped + invalid
        yield from (event for event in events if event.timestamp >= cutoff)
    if skipped:
        log.info("unreadable lines skipped=%d directory=%s", skipped, directory)


def summarise(
    events: Iterable[RequestEvent],
    registry: Registry,
    window_hours: float,
    only_version: str | None = None,
    top_unknown: int = 10,
    titles: TitleIndex | None = None,
) -> Summary:
    """What the agent decides on: volume, cold starts, similarity, latency, champion age.

    With `only_version`, only requests that version answered count (failures that no model
    answered too), so a fresh champion is not judged by its predecessor's traffic. With
    `titles` (the catalogue's), cold-start queries that a title contains ("star wars" when
    resolution missed it) are listed apart from the titles the catalogue lacks.
    """
    now = datetime.now(UTC)
    recommends = [
        e
        for e in events
        if e.endpoint == "recommend" and (only_version is None or e.model_version in (only_version, None))
    ]
    served = [e for e in recommends if e.status == 200]
    cold = [e for e in served if e.cold_start]
    similarities = [e.mean_similarity for e in served if e.mean_similarity is not None and not e.cold_start]
    latencies = [e.latency_ms for e in recommends if e.latency_ms is not None]
    unknown, failed = unanswered(cold, titles, top_unknown)
    try:
        champion = registry.champion()
    except ArtifactError:  # a broken champion has no age to report; the agent replaces it
        champion = None
    trained_at = champion.manifest.created_at if champion else None
    return Summary(
        generated_at=now,
        window_hours=window_hours,
        window_start=now - timedelta(hours=window_hours),
        only_version=only_version,
        requests=len(recommends),
        served=len(served),
        errors=len(recommends) - len(served),
        cold_starts=len(cold),
        cold_start_rate=len(cold) / len(served) if served else 0.0,
        methods=dict(Counter(e.method for e in served if e.method)),
        mean_similarity=float(np.mean(similarities)) if similarities else None,
        latency_ms_p50=float(np.percentile(latencies, 50)) if latencies else None,
        latency_ms_p95=float(np.percentile(latencies, 95)) if latencies else None,
        top_unknown_queries=unknown,
        top_failed_resolutions=failed,
        model_versions=dict(Counter(e.model_version for e in served if e.model_version)),
        champion_version=registry.champion_version(),
        last_retrain_at=trained_at,
        hours_since_retrain=(now - trained_at).total_seconds() / 3600 if trained_at else None,
    )


def unanswered(
    events: Iterable[RequestEvent], titles: TitleIndex | None, top: int
) -> tuple[list[UnknownQuery], list[UnknownQuery]]:
    """The most asked queries of served cold starts, split in two: those no catalogue title
    resembles (what the catalogue lacks) and, with `titles`, those one does (resolution missed)."""
    asked = Counter(e.query.strip().lower() for e in events if e.status == 200 and e.cold_start and e.query)
    failed = Counter({q: c for q, c in asked.most_common(MAX_EXAMINED) if titles is not None and titles.resembling(q) is not None})
    return (
        [UnknownQuery(query=q, count=c) for q, c in (asked - failed).most_common(top)],
        [UnknownQuery(query=q, count=c) for q, c in failed.most_common(top)],
    )


def write_summary(metrics_dir: Path, registry: Registry, window_hours: float, titles: TitleIndex | None = None) -> Summary:
    """Aggregate the last `window_hours` into `metrics/summary.json` (atomically) and return it."""
    since = datetime.now(UTC) - timedelta(hours=window_hours)
    summary = summarise(read_events(metrics_dir, since), registry, window_hours, titles=titles)
    write_text_atomic(MetricsLayout(Path(metrics_dir)).summary, summary.model_dump_json(indent=2))
    return summary
