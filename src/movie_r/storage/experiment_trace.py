"""`metrics/experiments/<id>.jsonl`: where an online experiment's test stood, tick by tick.

Tallying an experiment joins every event it served with the feedback that cites them; the
agent does that once per tick, and the console and `/metrics` show what it found instead of
tallying again per request. One typed record (`ExperimentPoint`), one writer (the agent, and
`movie-r experiment stop|promote|reject` for the last point, both under the trainer lock),
tolerant readers.

A trace stays small whatever the tick interval: past `MAX_POINTS` every other point is
dropped (the first and the last stay), so it keeps the experiment's whole span at a coarser
grain. A new trace removes all but the newest `KEPT_TRACES`.
"""

from __future__ import annotations

import contextlib
import os
import stat
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from movie_r.storage import journal
from movie_r.storage.files import write_text_atomic
from movie_r.storage.layout import MetricsLayout
from movie_r.storage.records import OnlineMode, validated

MAX_POINTS = 200
KEPT_TRACES = 20
TAIL_BYTES = 8192  # more than a few points: the last whole one is in it
MAX_BYTES = MAX_POINTS * 1024  # a trace never needs more; a larger file is read from its tail


class ExperimentPoint(BaseModel):
    """The agent's tally of an experiment at one tick (`experiments.Tally`, `sequential.Judgement`)."""

    model_config = ConfigDict(extra="allow")

    time: datetime
    experiment: str
    mode: OnlineMode
    impressions: int
    clicked_impressions: int
    wins: int  # decided comparisons the candidate won (interleave: clicked impressions; ab: pairs)
    losses: int  # ... the champion won
    ties: int
    llr_better: float
    llr_worse: float
    upper: float  # a statistic reaching it decides for its side
    lower: float  # both falling to it decide "no difference"
    effect: float | None = None
    interval: tuple[float, float] | None = None
    impressions_left: int | None = None
    standing: str  # a `sequential.Standing`
    arms: dict[str, tuple[int, int]] | None = None  # ab: arm -> (impressions, clicked impressions)
    ending: str | None = None  # the last point: how the experiment ended (`experiments.Ending`)


def append_point(metrics: MetricsLayout, point: ExperimentPoint) -> Path:
    """Add `point` to its experiment's trace, thinning the trace once it holds too many.

    The trace is rewritten and renamed over, never appended to in place: API processes may
    write `metrics/`, and a link one planted there must not carry the agent's writes elsewhere.
    """
    if metrics.experiments.is_symlink():
        raise OSError(f"{metrics.experiments} is a symbolic link; no trace is written through it")
    path = metrics.experiment_trace(point.experiment)
    new = not path.exists()
    points = [*read_points(path), point]
    if len(points) > MAX_POINTS:
        points = [*points[:-1:2], points[-1]]
    write_text_atomic(path, b"".join(journal.encode(p) for p in points).decode())
    if new:
        _remove_old_traces(metrics.experiments, keep=path)
    return path


def read_points(path: Path) -> list[ExperimentPoint]:
    """Every point of a trace, oldest first (none when it does not exist; a torn line is skipped)."""
    found = journal.Records()
    found.add_lines(_tail(path, MAX_BYTES))
    return validated(found.records, ExperimentPoint)[0]


def latest_point(path: Path) -> ExperimentPoint | None:
    """The trace's last whole point, from its tail alone: `/metrics` asks at every scrape."""
    for line in reversed(_tail(path, TAIL_BYTES).splitlines()):
        with contextlib.suppress(ValidationError):
            return ExperimentPoint.model_validate_json(line)
    return None


def _tail(path: Path, limit: int) -> bytes:
    """At most the last `limit` bytes of a regular file (a link is refused: `OSError`); none when it is missing."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return b""
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path} is not a regular file")
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(size - limit, 0))
        return handle.read(limit)


def _remove_old_traces(directory: Path, keep: Path) -> None:
    traces = []
    for path in directory.glob("*.jsonl"):
        with contextlib.suppress(OSError):  # removed by another writer meanwhile
            traces.append((path.stat().st_mtime, path))
    for _, path in sorted(traces, reverse=True)[KEPT_TRACES:]:
        if path != keep:
            path.unlink(missing_ok=True)
