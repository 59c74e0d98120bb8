"""The console's experiment panel: the running online experiment, or the last one and its verdict.

The counts are the agent's, from its trace (`movie_r.storage.experiment_trace`): the console
reads one experiment's file, never the events and feedback behind it. Which experiment, and
how it ended, come from `models/experiment.json` and the registry log, as they do for every
other reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from movie_r.lifecycle import experiments
from movie_r.storage.experiment_trace import ExperimentPoint, read_points
from movie_r.storage.layout import MetricsLayout
from movie_r.storage.records import Event, RegistryEvent
from movie_r.storage.registry import Registry
from movie_r_api.console.charts import Chart, trace_chart


@dataclass(frozen=True)
class ExperimentView:
    id: str
    champion: str | None
    candidate: str | None
    mode: str | None
    started_at: datetime | None
    started_by: str | None  # agent | operator; an ended experiment's record is gone, so unknown
    running: bool
    ending: str | None  # once ended and recorded: promoted | rejected | stopped
    reason: str | None  # why it ended
    ended_at: datetime | None
    latest: ExperimentPoint | None  # None until the agent's first tick tallies it
    chart: Chart


def experiment_view(registry: Registry, metrics: MetricsLayout) -> ExperimentView | None:
    """The running experiment, else the last one that ran; None when none ever did."""
    running = experiments.current(registry)
    if running is not None:
        points = _points(metrics, running.id)
        return ExperimentView(
            running.id, running.champion, running.candidate, running.mode.value, running.started_at, running.started_by,
            True, None, None, None, points[-1] if points else None, _chart(points, running.started_at),
        )  # fmt: skip
    started, ended = _last_experiment(registry.events())
    if started is None:
        return None
    identity = _experiment_of(started) or "?"
    points = _points(metrics, identity)
    latest = points[-1] if points else None
    return ExperimentView(
        identity, started.previous, started.version, latest.mode.value if latest else None, started.time, None, False,
        _extra(ended, "ending"), ended.reason if ended else None, ended.time if ended else None, latest,
        _chart(points, started.time),
    )  # fmt: skip


def _last_experiment(events: list[RegistryEvent]) -> tuple[RegistryEvent | None, RegistryEvent | None]:
    """The newest `experiment_started` event and the `experiment_ended` that closed it, if any."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].event is Event.EXPERIMENT_STARTED:
            identity = _experiment_of(events[i])
            ended = next(
                (e for e in events[i + 1 :] if e.event is Event.EXPERIMENT_ENDED and _experiment_of(e) == identity), None
            )
            return events[i], ended
    return None, None


def _points(metrics: MetricsLayout, experiment: str) -> list[ExperimentPoint]:
    try:
        return read_points(metrics.experiment_trace(experiment))
    except ValueError:  # an id that names no file: shown, with no trace
        return []


def _chart(points: list[ExperimentPoint], started_at: datetime) -> Chart:
    start = started_at.timestamp()
    first = next(iter(points), None)
    levels = {} if first is None else {f"decides {first.upper:.2f}": first.upper, f"no difference {first.lower:.2f}": first.lower}
    return trace_chart(
        "The test's log-likelihood ratios against its boundaries",
        "",
        {
            "candidate better": [(0.0, 0.0)] * bool(points) + [(p.time.timestamp() - start, p.llr_better) for p in points],
            "candidate worse": [(0.0, 0.0)] * bool(points) + [(p.time.timestamp() - start, p.llr_worse) for p in points],
        },
        levels,
        (f"{started_at:%H:%M} start", f"{points[-1].time:%H:%M} last tally" if points else ""),
    )


def _experiment_of(event: RegistryEvent | None) -> str | None:
    return _extra(event, "experiment")


def _extra(event: RegistryEvent | None, name: str) -> str | None:
    value = None if event is None else (event.model_extra or {}).get(name)
    return None if value is None else str(value)
