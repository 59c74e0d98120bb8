"""Online experiments: a candidate served beside the champion until clicks say which is better.

An experiment starts when a challenger passes the offline gate (or an operator starts one):
`models/candidate` links its version and `models/experiment.json` holds its `Experiment`.
Every API replica then answers with both models (interleaved, or one per client in `ab`
mode) and records, per answer, who contributed what. The agent tallies those events against
the feedback that cites them, and `judge` ends the experiment when the sequential test
decides, when nothing was clicked in the first quiet window, or at its maximum.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pydantic import ValidationError

from movie_r.answering.interleaving import Interleaved, Team
from movie_r.errors import ArtifactError, MovieRError
from movie_r.lifecycle.promotion import promote
from movie_r.lifecycle.sequential import Judgement, Standing, StoppingRule, judge, paired_wins
from movie_r.lifecycle.telemetry import read_events, read_feedback
from movie_r.settings import OnlineSettings
from movie_r.storage.experiment_trace import ExperimentPoint
from movie_r.storage.files import utc_now, write_json_atomic
from movie_r.storage.records import Event, Experiment, ExperimentRule, OnlineMode, RegistryEvent
from movie_r.storage.registry import Registry

CLICKS = frozenset({"click", "like", "watched"})  # feedback that says an answer was wanted


class Ending(StrEnum):
    """How an experiment ended."""

    PROMOTED = "promoted"  # the candidate won online, or nothing was learned and the offline verdict stands
    REJECTED = "rejected"
    STOPPED = "stopped"  # by an operator, or its champion or candidate vanished


@dataclass(frozen=True)
class Tally:
    """What traffic said so far: impressions served in the experiment and the test's standing."""

    impressions: int
    clicked_impressions: int
    judgement: Judgement
    arms: dict[str, tuple[int, int]] | None = None  # ab: arm -> (impressions, clicked impressions)
    trace: tuple[tuple[int, Team | None], ...] = ()  # each decided or tied comparison: (impressions shown by then, winner)

    def decided_after(self, rule: StoppingRule) -> tuple[int, Standing] | None:
        """The impressions shown when the test, looked at after every comparison, first decided."""
        wins = losses = ties = 0
        for shown, winner in self.trace:
            wins, losses, ties = wins + (winner is Team.CANDIDATE), losses + (winner is Team.CHAMPION), ties + (winner is None)
            standing = judge(wins, losses, ties, rule).standing
            if standing is not Standing.CONTINUE:
                return shown, standing
        return None

    def summary(self) -> str:
        j = self.judgement
        effect = "n/a" if j.effect is None or j.interval is None else f"{j.effect:+.3f} [{j.interval[0]:+.3f}, {j.interval[1]:+.3f}]"
        return (
            f"{self.impressions} impressions, {self.clicked_impressions} with clicks: candidate won {j.wins}, champion won "
            f"{j.losses}, ties {j.ties}; log-likelihood ratios better {j.llr_better:.2f} / worse {j.llr_worse:.2f} "
            f"against {j.upper:.2f} (decide) and {j.lower:.2f} (no difference); effect {effect}; {j.standing.value}"
        )


def rule_of(settings: OnlineSettings) -> ExperimentRule:
    return ExperimentRule(
        alpha=settings.online_alpha,
        power=settings.online_power,
        min_effect=settings.online_min_effect,
        max_impressions=settings.online_max_impressions,
        max_hours=settings.online_max_hours,
        quiet_minutes=settings.online_quiet_minutes,
    )


def stopping_rule(rule: ExperimentRule) -> StoppingRule:
    return StoppingRule(rule.alpha, rule.power, rule.min_effect, rule.max_impressions)


def current(registry: Registry) -> Experiment | None:
    """The running experiment, or None; one whose record or candidate link is gone is none."""
    try:
        experiment = Experiment.model_validate_json(registry.experiment_path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValidationError, ValueError) as exc:
        raise ArtifactError(f"{registry.experiment_path}: unreadable experiment record ({exc})") from None
    if registry.candidate_version() != experiment.candidate:
        return None
    return experiment


def start(
    registry: Registry, candidate: str, mode: OnlineMode, rule: ExperimentRule, started_by: str, reasons: list[str]
) -> Experiment:
    """Serve `candidate` beside the champion from now on; call with the trainer lock held."""
    champion = registry.champion_version()
    if champion is None:
        raise MovieRError("no champion: an experiment needs one to compare with")
    if candidate == champion:
        raise MovieRError(f"version {candidate} is the champion; it cannot be its own candidate")
    if mode is OnlineMode.OFF:
        raise MovieRError("MOVIE_R_ONLINE is off: no experiment to start")
    running = current(registry)
    if running is not None:
        raise MovieRError(f"experiment {running.id} is running ({running.candidate} against {running.champion}); stop it first")
    registry.get(candidate).verify()
    experiment = Experiment(
        id=f"exp-{utc_now():%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
        mode=mode,
        champion=champion,
        candidate=candidate,
        started_at=utc_now(),
        started_by=started_by,
        rule=rule,
        offline_reasons=reasons,
    )
    write_json_atomic(registry.experiment_path, experiment.model_dump(mode="json"))
    registry.set_candidate(candidate)  # last: replicas serve the candidate only once its record exists
    registry.record(Event.EXPERIMENT_STARTED, candidate, previous=champion, reason="; ".join(reasons), experiment=experiment.id)
    return experiment


def tally(experiment: Experiment, metrics_dir: Path) -> Tally:
    """Count the experiment's impressions and credit each clicked one (events joined with feedback)."""
    rule = stopping_rule(experiment.rule)
    clicked: dict[str, set[int]] = defaultdict(set)
    for feedback in read_feedback(metrics_dir, experiment.started_at):
        if feedback.action in CLICKS:
            clicked[feedback.request_id].add(feedback.movie_id)
    impressions = 0
    if experiment.mode is OnlineMode.AB:
        arms: dict[str, list[bool]] = {Team.CHAMPION: [], Team.CANDIDATE: []}
        for event in read_events(metrics_dir, experiment.started_at):
            if event.experiment == experiment.id and event.arm in arms and event.request_id:
                arms[event.arm].append(bool(clicked.get(event.request_id)))
                impressions += 1
        wins, losses, ties = paired_wins(arms[Team.CANDIDATE], arms[Team.CHAMPION])
        per_arm = {arm: (len(shown), sum(shown)) for arm, shown in arms.items()}
        clicked_impressions = sum(c for _, c in per_arm.values())
        pairs = list(zip(arms[Team.CANDIDATE], arms[Team.CHAMPION], strict=False))
        trace = tuple(
            (2 * (i + 1), None if a == b else Team.CANDIDATE if a else Team.CHAMPION) for i, (a, b) in enumerate(pairs)
        )
        judgement = _bounded(judge(wins, losses, ties, rule), impressions, rule)
        return Tally(impressions, clicked_impressions, judgement, per_arm, trace)
    wins = losses = ties = 0
    steps: list[tuple[int, Team | None]] = []
    for event in read_events(metrics_dir, experiment.started_at):
        if event.experiment != experiment.id or not event.request_id or event.movies is None or event.teams is None:
            continue
        impressions += 1
        picks = clicked.get(event.request_id)
        if not picks:
            continue
        answer = Interleaved(tuple(event.movies), tuple(Team(t) for t in event.teams), (False,) * len(event.movies))
        winner = answer.credit(sorted(picks))
        wins += winner is Team.CANDIDATE
        losses += winner is Team.CHAMPION
        ties += winner is None
        steps.append((impressions, winner))
    judgement = _bounded(judge(wins, losses, ties, rule), impressions, rule)
    return Tally(impressions, wins + losses + ties, judgement, trace=tuple(steps))


def verdict(experiment: Experiment, counted: Tally, now: datetime | None = None) -> tuple[Ending, str] | None:
    """How the experiment ends now, and why in one line; None while it should run on."""
    now = now or utc_now()
    standing = counted.judgement.standing
    if standing is Standing.CANDIDATE_BETTER:
        return Ending.PROMOTED, f"online: candidate better ({counted.summary()})"
    if standing is Standing.CANDIDATE_WORSE:
        return Ending.REJECTED, f"online: candidate worse ({counted.summary()})"
    quiet = counted.clicked_impressions == 0 and now - experiment.started_at >= timedelta(minutes=experiment.rule.quiet_minutes)
    expired = now - experiment.started_at >= timedelta(hours=experiment.rule.max_hours)
    if standing in (Standing.NO_DIFFERENCE, Standing.UNDECIDED) or quiet or expired:
        why = (
            "no feedback in the first window" if quiet
            else "maximum duration reached" if standing is Standing.CONTINUE
            else standing.value
        )  # fmt: skip
        if experiment.started_by != "agent":
            return Ending.REJECTED, f"no online evidence ({why}); an operator's experiment skipped the offline gate, so nothing stands"
        return Ending.PROMOTED, f"no online evidence ({why}): the offline verdict stands ({'; '.join(experiment.offline_reasons)})"
    return None


def end(registry: Registry, experiment: Experiment, ending: Ending, reason: str, counted: Tally | None = None) -> RegistryEvent:
    """Finish the experiment: promote or reject its candidate, unlink it, and record why."""
    details = {} if counted is None else {"impressions": counted.impressions, "clicked_impressions": counted.clicked_impressions}
    if ending is Ending.PROMOTED:
        promote(registry, experiment.candidate, reason, expected_champion=experiment.champion)
    elif ending is Ending.REJECTED:
        registry.record(Event.REJECTED, experiment.candidate, reasons=[reason], experiment=experiment.id)
    registry.clear_candidate()
    registry.experiment_path.unlink(missing_ok=True)
    return registry.record(
        Event.EXPERIMENT_ENDED, experiment.candidate, previous=experiment.champion, reason=reason,
        experiment=experiment.id, ending=ending.value, **details,
    )  # fmt: skip


def point(experiment: Experiment, counted: Tally, ending: Ending | None = None) -> ExperimentPoint:
    """The tally as one point of the experiment's trace; `ending` on the last one."""
    j = counted.judgement
    return ExperimentPoint(
        time=utc_now(), experiment=experiment.id, mode=experiment.mode,
        impressions=counted.impressions, clicked_impressions=counted.clicked_impressions,
        wins=j.wins, losses=j.losses, ties=j.ties, llr_better=j.llr_better, llr_worse=j.llr_worse, upper=j.upper, lower=j.lower,
        effect=j.effect, interval=j.interval, impressions_left=j.impressions_left, standing=j.standing.value, arms=counted.arms,
        ending=None if ending is None else ending.value,
    )  # fmt: skip


def describe(experiment: Experiment, counted: Tally) -> dict[str, object]:
    """`movie-r experiment status --json`: the record with its counts and statistic."""
    figures = point(experiment, counted).model_dump(mode="json", exclude={"time", "experiment", "mode", "ending"})
    return {**json.loads(experiment.model_dump_json()), **figures}


def _bounded(judgement: Judgement, impressions: int, rule: StoppingRule) -> Judgement:
    """The judgement, undecided once the impressions shown (clicked or not) reach the maximum."""
    if judgement.standing is Standing.CONTINUE and impressions >= rule.max_impressions:
        return replace(judgement, standing=Standing.UNDECIDED, impressions_left=0)
    return judgement
