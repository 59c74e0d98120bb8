"""What the console shows, read from the storage root through its typed records.

Each panel is built by one function from the files the services already write
(`movie_r.storage.layout`): the champion's manifest and the registry log, the agent's status file,
the decisions log, every process's events file. Nothing here writes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from movie_r.answering.inference import Recommender
from movie_r.errors import ArtifactError
from movie_r.lifecycle.data_match import data_match
from movie_r.lifecycle.telemetry import unanswered
from movie_r.settings import Settings
from movie_r.storage.agent_status import AgentStatus, read_status_or_problem
from movie_r.storage.lineage import statuses
from movie_r.storage.manifest import Manifest
from movie_r.storage.records import Decision, RegistryEvent, RequestEvent, read_file
from movie_r.storage.registry import Registry
from movie_r_api.console.charts import Box, nice_ceiling, x_of, y_of

HEARTBEAT_STALE = timedelta(seconds=30)  # the agent rewrites its status every 10 s
DECISIONS_SHOWN = 12
VERSIONS_SHOWN = 30
GAPS_SHOWN = 10


@dataclass(frozen=True)
class AgentView:
    alive: bool
    summary: str  # one line: what the agent is doing, or why it is thought dead
    status: AgentStatus | None


@dataclass(frozen=True)
class Now:
    champion: Manifest | None
    serving: str | None  # what this process serves (may lag the link by a watch interval)
    age: str | None
    data_matches: bool | None
    data_detail: str
    agent: AgentView


@dataclass(frozen=True)
class VersionRow:
    version: str
    created_at: datetime | None
    kind: str
    score: float | None
    score_name: str
    status: str  # champion | previous | retired | rejected | trained
    has_report: bool
    marker: str  # the timeline's symbol, readable without colour
    x: float = 0.0
    y: float = 0.0


@dataclass(frozen=True)
class History(Box):
    versions: list[VersionRow]
    y_max: float
    events: list[RegistryEvent]


@dataclass(frozen=True)
class Gap:
    query: str
    count: int
    like: str | None  # the catalogue title it resembles: a resolution that failed, not a missing movie


@dataclass(frozen=True)
class Gaps:
    missing: list[Gap] = field(default_factory=list)
    failed: list[Gap] = field(default_factory=list)


MARKERS = {"champion": "★", "previous": "●", "retired": "●", "rejected": "✕", "trained": "○"}


def now(settings: Settings, registry: Registry, serving: str | None) -> Now:
    try:
        champion = registry.champion()
        manifest = champion.manifest if champion else None
    except ArtifactError:
        manifest = None
    matches, detail = None, "no champion"
    if manifest is not None:
        match = data_match(manifest.data, settings.catalog, settings.interactions)
        matches, detail = match.matches, match.detail
    age = _age(datetime.now(UTC) - manifest.created_at) if manifest and manifest.created_at else None
    status, problem = read_status_or_problem(settings.metrics_dir)
    return Now(manifest, serving, age, matches, detail, agent_view(status, problem=problem))


def agent_view(status: AgentStatus | None, at: datetime | None = None, problem: str | None = None) -> AgentView:
    at = at or datetime.now(UTC)
    if problem is not None:
        return AgentView(False, f"metrics/{problem}", None)
    if status is None:
        return AgentView(False, "no agent has written metrics/agent.json", None)
    if status.state == "stopped":
        return AgentView(False, f"stopped {_age(at - status.updated_at)} ago", status)
    if at - status.updated_at > HEARTBEAT_STALE:
        return AgentView(False, f"silent for {_age(at - status.updated_at)} (no heartbeat): presumed dead", status)
    if status.state == "ticking":
        stage = f": {status.stage} {status.stage_done}/{status.stage_total}" if status.stage else ""
        return AgentView(True, f"training now{stage}", status)
    return AgentView(True, "idle", status)


def history(registry: Registry, reports: Path) -> History:
    events = registry.events()
    status_of = statuses(registry, events)
    rows = []
    for version in registry.versions()[-VERSIONS_SHOWN:]:
        try:
            manifest = version.manifest
        except ArtifactError:
            continue
        status = status_of.get(version.version, "trained")
        score = manifest.evaluation.score
        rows.append(
            VersionRow(
                version=version.version,
                created_at=manifest.created_at,
                kind=manifest.kind,
                score=None if math.isnan(score) else score,
                score_name=manifest.evaluation.score_name,
                status=status,
                has_report=(reports / f"{version.version}.html").is_file(),
                marker=MARKERS.get(status, "○"),
            )
        )
    scores = [row.score for row in rows if row.score is not None]
    top = nice_ceiling(max(scores)) if scores else 1.0
    placed = [_placed(row, x_of(i, len(rows)), top) for i, row in enumerate(rows)]
    return History(list(reversed(placed)), top, list(reversed(events[-DECISIONS_SHOWN:])))


MAX_REPORT_BYTES = 16 << 20


def report_html(reports: Path, version: str) -> str | None:
    """A promotion report's text, or None: opened only as a regular file directly in `reports/`,
    never through a symbolic link (a link planted there could name the private key or /etc/passwd)."""
    try:
        directory = os.open(reports, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        descriptor = os.open(f"{version}.html", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except OSError:
        return None
    finally:
        os.close(directory)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        return None
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(MAX_REPORT_BYTES + 1)
    if len(data) > MAX_REPORT_BYTES:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def decisions(path: Path) -> list[Decision]:
    return list(reversed(read_file(path, Decision)[-DECISIONS_SHOWN:]))


def gaps(events: list[RequestEvent], recommender: Recommender | None) -> Gaps:
    """The most asked queries no catalogue title answered, split into titles the catalogue
    lacks and queries that look like one of its titles (the resolution failed them), as
    `movie-r metrics` splits them (`telemetry.unanswered`)."""
    if recommender is None:
        return Gaps([Gap(q.query, q.count, None) for q in unanswered(events, None, GAPS_SHOWN)[0]])
    missing, failed = unanswered(events, recommender.titles, GAPS_SHOWN)
    titles, resembling = recommender.model.titles_, recommender.titles.resembling  # remembered: no second search
    return Gaps(
        [Gap(q.query, q.count, None) for q in missing],
        [Gap(q.query, q.count, titles[resembling(q.query)]) for q in failed],
    )


def _placed(row: VersionRow, x: float, top: float) -> VersionRow:
    y = y_of(row.score if row.score is not None else 0.0, top)
    return dataclasses.replace(row, x=round(x, 1), y=round(y, 1))


def _age(delta: timedelta) -> str:
    seconds = max(delta.total_seconds(), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}" if unit != "min" else f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"
