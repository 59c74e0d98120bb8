"""The agent's side of an online experiment: one tick's look at it, and its ending."""

from __future__ import annotations

import logging

from movie_r.lifecycle import experiments, watch
from movie_r.lifecycle.experiments import Ending, Tally
from movie_r.lifecycle.promotion import ChampionChanged
from movie_r.settings import Settings
from movie_r.storage.experiment_trace import append_point
from movie_r.storage.files import utc_now
from movie_r.storage.records import Decision, Event, Experiment, OnlineMode, Outcome, Result, TickVerdict
from movie_r.storage.registry import Registry

log = logging.getLogger(__name__)

RESULTS = {Ending.PROMOTED: Result.PROMOTED, Ending.REJECTED: Result.REJECTED, Ending.STOPPED: Result.STOPPED}


def follow_experiment(settings: Settings, registry: Registry, decision: Decision, experiment: Experiment) -> None:
    """A tick while an experiment runs: where its test stands, or how it ends now."""
    counted = experiments.tally(experiment, settings.metrics_dir)
    if registry.champion_version() != experiment.champion:  # an operator changed the champion meanwhile
        ending, reason = Ending.STOPPED, f"the champion is no longer {experiment.champion}; the experiment's comparison is void"
    else:
        ended = experiments.verdict(experiment, counted)
        if ended is None:
            trace(settings, experiment, counted)
            decision.settle(TickVerdict.EXPERIMENT, [*decision.reasons, f"experiment {experiment.id} runs: {counted.summary()}"])
            return
        ending, reason = ended
    try:
        experiments.end(registry, experiment, ending, reason, counted)
    except ChampionChanged as exc:
        ending, reason = Ending.STOPPED, f"{exc}; not promoted"
        experiments.end(registry, experiment, ending, reason, counted)
    trace(settings, experiment, counted, ending)
    result = RESULTS[ending]
    decision.settle(
        TickVerdict.EXPERIMENT,
        [*decision.reasons, f"experiment {experiment.id} ended: {ending.value}"],
        Outcome(result=result, challenger=experiment.candidate, reasons=[reason]),
    )


def start_experiment(settings: Settings, registry: Registry, candidate: str, reasons: list[str]) -> str:
    """Serve a challenger that passed the offline gate beside the champion; the line that says so."""
    experiment = experiments.start(registry, candidate, OnlineMode(settings.online), experiments.rule_of(settings), "agent", list(reasons))
    return f"passed the offline gate: experiment {experiment.id} ({experiment.mode.value}) serves it beside the champion"


def watch_champion(settings: Settings, registry: Registry, decision: Decision, data_key: str) -> bool:
    """A tick's look at a new champion's clicks; True when it restored the previous champion
    (the tick ends there). A champion that held, or whose watch is still open, says so in a
    reason and the tick goes on."""
    if not settings.online_watch_hours:
        return False
    now = utc_now()
    watching = watch.look(
        registry, settings.metrics_dir, settings.online_watch_hours, settings.online_alpha, settings.online_click_delay_seconds, now
    )  # fmt: skip
    if watching is None:
        return False
    if not watching.due(now):
        decision.reasons = [
            *decision.reasons,
            f"watching champion {watching.champion} until {watching.ends_at:%Y-%m-%d %H:%M}: {watching.summary()}",
        ]
        return False
    ended = watch.conclude(registry, watching)
    if ended.event != Event.RESTORED:
        decision.reasons = [*decision.reasons, f"watch of champion {watching.champion} ended, {ended.reason}"]
        return False
    # counted as a rejection on the data it was trained for, so the cooldown keeps the next
    # tick from training the same challenger and promoting it again at once
    registry.record(Event.REJECTED, watching.champion, reasons=[ended.reason or watch.ONLINE_REGRESSION], data_key=data_key)
    decision.restored = ended.to_json()
    decision.champion = registry.champion_version()
    decision.settle(TickVerdict.ONLINE_REGRESSION, [*decision.reasons, ended.reason or watch.ONLINE_REGRESSION])
    return True


def trace(settings: Settings, experiment: Experiment, counted: Tally, ending: Ending | None = None) -> None:
    """Leave the tally in the experiment's trace for the console and `/metrics`; a trace that
    cannot be written is logged, never a reason for the experiment to stop or end otherwise."""
    try:
        append_point(settings.storage.metrics, experiments.point(experiment, counted, ending))
    except (OSError, ValueError) as exc:  # ValueError: an id that names no file
        log.warning("experiment trace not written experiment=%s reason=%r", experiment.id, str(exc))
