"""One tick of the retraining agent: look, decide with reasons, maybe train and promote.

A tick takes the trainer lock (one trainer across processes), validates the data, reads
the champion's runtime metrics and the feedback log, checks every trigger, and — when one
fires, or when forced — trains challengers, scores them and the champion on the same
queries of the current data, and promotes the best challenger only if the rule says so.
Every tick appends one record to `reports/decisions.jsonl`, whatever it decided.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from filelock import Timeout

from movie_r.answering.inference import Recommender
from movie_r.answering.titles import TitleIndex
from movie_r.errors import ArtifactError, Cancelled, DataError, MovieRError
from movie_r.lifecycle import experiments
from movie_r.lifecycle.data_match import cached_fingerprint
from movie_r.lifecycle.evaluation import EvaluationReport, evaluate
from movie_r.lifecycle.fitting import Candidate, TrainingData, fit_candidate, load_training_data
from movie_r.lifecycle.promotion import ChampionChanged, apply_retention, promote, restore_servable_champion
from movie_r.lifecycle.telemetry import feedback_stats, read_events, read_feedback, summarise
from movie_r.lifecycle.training import save_candidate, train
from movie_r.lifecycle.tuning import tune
from movie_r.progress import cancellable, checkpoint
from movie_r.recommenders.kinds import AUTO_KINDS, DEFAULT_PARAMS
from movie_r.recommenders.pipeline import json_params, restore_params
from movie_r.settings import Settings
from movie_r.storage.files import utc_now
from movie_r.storage.records import (
    Decision,
    Event,
    OnlineMode,
    Outcome,
    Result,
    TickVerdict,
    TriggerRecord,
)
from movie_r.storage.registry import ModelVersion, Registry
from movie_r_agents.backoff import backoff
from movie_r_agents.decision_log import append_decision, read_decisions
from movie_r_agents.judge import Guardrail, Verdict, decide, latency_check, p95_latency_ms, smoke_check
from movie_r_agents.online import follow_experiment, start_experiment, watch_champion
from movie_r_agents.report import write_report
from movie_r_agents.triggers import check_triggers
from movie_r_agents.waiting import client_budget_spent, cooldown

log = logging.getLogger(__name__)

TFIDF_RECOMMENDER = ("recommender__n_neighbors", "recommender__block_memory_mb", "recommender__candidates")
SMOKE_TITLES = 5
LATENCY_DESCRIPTIONS = ["space adventure with robots", "romantic comedy in paris", "dark crime thriller"]

# Challengers beside the champion's own configuration refit on current data (text settings,
# which every kind shares); with interactions, a tuned choice among all kinds joins them.
GRID: list[tuple[str, dict[str, Any]]] = [
    ("genres-heavier", {"text__genre_weight": 5}),
    ("titles-heavier", {"text__title_weight": 3, "text__genre_weight": 2}),
    ("bigrams", {"tfidf__ngram_range": (1, 2)}),
]


def run_tick(
    settings: Settings,
    force: bool = False,
    params: dict[str, Any] | None = None,
    kind: str | None = None,
    stop: threading.Event | None = None,
    lock_timeout: float = 0,
) -> dict[str, Any]:
    """Run one tick and return its decision record (also appended to the decisions log).

    `kind` and/or `params` replace the challenger pool with that one configuration; `force`
    skips the triggers (never the promotion rule). Another trainer holding the lock means skip.
    """
    registry = Registry.of(settings)
    decision = _started(settings, registry, force)
    lock = registry.trainer_lock()
    try:
        lock.acquire(timeout=lock_timeout)
    except Timeout:
        decision.settle(TickVerdict.SKIPPED, [f"another trainer holds {lock.lock_file}; not training twice"])
        return append_decision(settings, decision)
    try:
        leftovers = registry.remove_staging_leftovers()
        if leftovers:
            decision.cleaned = leftovers
            log.warning("removed half-written versions of an interrupted trainer: %s", leftovers)
        history = backoff(read_decisions(settings), decision.inputs_key)
        waiting = None if force else history.reason(settings.failure_backoff_max_ticks)
        if waiting:
            decision.settle(TickVerdict.BACKING_OFF, [waiting])
        else:
            requested = (kind or "auto", params) if kind is not None or params is not None else None
            with cancellable(stop or threading.Event()):
                _decide_and_act(settings, registry, decision, force, requested)
    except Cancelled as exc:
        registry.record(Event.FAILED, None, reason=str(exc))
        decision.settle(decision.verdict or TickVerdict.ABANDONED, decision.reasons or [str(exc)])
        decision.outcome = Outcome(result=Result.ABANDONED, error=str(exc))
    except Exception as exc:  # whatever breaks, the tick is recorded and the agent lives on
        log.exception("tick failed")
        reason = f"{type(exc).__name__}: {exc}"
        decision.settle(TickVerdict.FAILED, [reason], Outcome(result=Result.FAILED, error=reason))
    finally:
        lock.release()
    return append_decision(settings, decision)


def record_abandoned(settings: Settings, reason: str) -> dict[str, Any]:
    """The decision of a tick its process left without finishing (it published nothing)."""
    decision = _started(settings, Registry.of(settings), force=False)
    decision.settle(TickVerdict.ABANDONED, [reason], Outcome(result=Result.ABANDONED, error=reason))
    return append_decision(settings, decision)


def _started(settings: Settings, registry: Registry, force: bool) -> Decision:
    """A tick's decision before it decides anything: when, over which champion and inputs."""
    return Decision(time=utc_now(), forced=force, champion=registry.champion_version(), inputs_key=inputs_key(settings))


def inputs_key(settings: Settings) -> str:
    """One fingerprint of the configured input files, read before any of them is parsed, and of
    the settings that decide whether they load (MOVIE_R_SKIP_INVALID, MOVIE_R_SKIP_UNKNOWN): setting one
    tries them again at once."""
    parts = []
    for name, path in (("catalog", settings.catalog), ("interactions", settings.interactions)):
        digest = (cached_fingerprint(path) or "unreadable") if path is not None else "none"
        parts.append(f"{name}:{path}:{digest}")
    parts += [name for name in ("skip_invalid", "skip_unknown") if getattr(settings, name)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _servable_champion(registry: Registry, decision: Decision) -> ModelVersion | None:
    """The champion, after making sure it can serve: a broken one is replaced by the last
    earlier champion that can (recorded), or treated as none when no version can."""
    try:
        restored = restore_servable_champion(registry)
    except ArtifactError as exc:
        decision.reasons = [str(exc)]
        return None
    if restored is not None:
        decision.restored = restored.to_json()
        decision.reasons = [restored.reason or "restored an earlier champion"]
    return registry.champion()


def _decide_and_act(
    settings: Settings,
    registry: Registry,
    decision: Decision,
    force: bool,
    requested: tuple[str, dict[str, Any] | None] | None,
) -> None:
    try:
        data = load_training_data(
            settings.catalog, settings.interactions, settings.skip_invalid, settings.skip_unknown,
            metrics_dir=settings.metrics_dir, feedback_per_source=settings.feedback_per_source_max,
        )  # fmt: skip
    except DataError as exc:
        decision.settle(TickVerdict.DATA_REJECTED, [str(exc)])
        return
    champion = _servable_champion(registry, decision)
    if champion is None:
        try:
            # TF-IDF first, so an empty volume serves within a minute; the next tick may do better
            result = train(settings, data, *(requested or ("tfidf", None)))
        except Cancelled:
            raise
        except Exception as exc:  # recorded, and the agent tries again next tick
            log.exception("training the first champion failed")
            registry.record(Event.FAILED, None, reason=f"{type(exc).__name__}: {exc}")
            decision.settle(TickVerdict.FIRST_CHAMPION, ["no champion yet"], Outcome(result=Result.FAILED, error=str(exc)))
            return
        if registry.champion_version() != result.version.version:  # a broken champion nothing could replace
            promote(registry, result.version.version, "replaces a champion that cannot serve")
        decision.settle(
            TickVerdict.FIRST_CHAMPION,
            [*decision.reasons, "no servable champion: trained and installed a first one"],
            Outcome(result=Result.PROMOTED, challenger=result.version.version, score=result.report.score),
        )
        return

    running = experiments.current(registry)
    if running is not None:
        follow_experiment(settings, registry, decision, running)
        return
    if watch_champion(settings, registry, decision, data_key(data)):
        return

    since = datetime.now(UTC) - timedelta(hours=settings.summary_window_hours)
    titles = TitleIndex(data.catalog.movies["title"].tolist(), data.catalog.movies["popularity"].to_numpy())
    events = read_events(settings.metrics_dir, since)
    summary = summarise(events, registry, settings.summary_window_hours, champion.version, titles=titles)
    # only feedback on the champion's own answers: after a promotion, what users said of an
    # earlier version's answers is no reason to replace this one
    feedback = feedback_stats(
        f for f in read_feedback(settings.metrics_dir, since, settings.feedback_per_source_max) if f.model_version == champion.version
    )
    triggers = check_triggers(settings, summary, feedback, champion.manifest, data.fingerprints())
    fired = [t for t in triggers if t.fired]
    decision.inputs = {
        "summary": summary.model_dump(
            mode="json", include={"requests", "served", "cold_start_rate", "mean_similarity", "hours_since_retrain"}
        ),
        "top_unknown_queries": [query.model_dump() for query in summary.top_unknown_queries[:5]],
        "top_failed_resolutions": [query.model_dump() for query in summary.top_failed_resolutions[:5]],
        "feedback": feedback.model_dump(),
        "data": data.fingerprints().model_dump(exclude_none=True),
        "data_key": data_key(data),
    }
    decision.triggers = [TriggerRecord.model_validate(t.to_dict()) for t in triggers]
    reasons = [*decision.reasons, *(t.reason for t in fired)]  # a restored champion says so first
    if force:
        decision.settle(TickVerdict.RETRAIN, ["forced by the operator", *reasons])
    elif not fired:
        decision.settle(TickVerdict.NO_RETRAIN, [*reasons, "no trigger fired"])
        return
    else:
        waiting = cooldown(settings, registry, data_key(data)) or client_budget_spent(settings, fired)
        if waiting:
            decision.settle(TickVerdict.NO_RETRAIN, [*reasons, waiting])
            return
        decision.settle(TickVerdict.RETRAIN, reasons)
    decision.outcome = _retrain(settings, registry, data, champion, requested)


def _retrain(
    settings: Settings,
    registry: Registry,
    data: TrainingData,
    champion: ModelVersion,
    requested: tuple[str, dict[str, Any] | None] | None,
) -> Outcome:
    try:
        candidates = []
        for name, kind, config in challenger_configs(champion, requested, data.train_ratings is not None):
            checkpoint("training challengers")
            tuned = kind == "auto" and config is None
            candidate = tune(settings, data, AUTO_KINDS) if tuned else fit_candidate(settings, data, kind, config)
            candidates.append((name, candidate))
        name, best = max(candidates, key=lambda pair: pair[1].report.score)
        champion_recommender = Recommender(champion.load(), champion.version, settings.fuzzy_threshold)
        champion_report = evaluate(champion_recommender, data.queries)
        checkpoint("scoring the champion")
        saved = save_candidate(registry, best, data, role="challenger", challenger_config=name, champion_at_training=champion.version)
        registry.record(
            Event.EVALUATED,
            saved.version,
            champion=champion.version,
            score_name=best.report.score_name,
            challenger_score=best.report.score,
            champion_score=champion_report.score,
        )
        guardrails = _guardrails(settings, registry, saved, data, champion_recommender)
        verdict = decide(settings, champion_report, best.report, guardrails)
        report = _report(saved, name, candidates, champion, champion_report, verdict, data)
        _, html_path = write_report(settings.reports_dir, saved.version, report)
        scores = {"score_name": best.report.score_name, "challenger": best.report.score, "champion": champion_report.score}
        promoted = verdict.promote
        online = promoted and settings.online != OnlineMode.OFF
        if online:
            verdict.reasons.append(start_experiment(settings, registry, saved.version, verdict.reasons))
        elif promoted:
            try:
                promote(registry, saved.version, "; ".join(verdict.reasons), expected_champion=champion.version, **scores)
            except ChampionChanged as exc:  # judged against a champion that is no longer there: void
                promoted = False
                verdict.reasons.append(f"{exc}; not promoted, the next tick judges again")
        if not promoted and not online:
            registry.record(Event.REJECTED, saved.version, reasons=verdict.reasons, data_key=data_key(data), **scores)
        removed = apply_retention(registry, settings.keep_versions, settings.reports_dir)
        return Outcome(
            result=Result.EXPERIMENT if online else Result.PROMOTED if promoted else Result.REJECTED,
            challenger=saved.version,
            candidate=name,
            scores=scores,
            difference_ci=verdict.difference_ci,
            reasons=verdict.reasons,
            report=str(html_path),
            removed_versions=removed,
        )
    except Cancelled:
        raise
    except Exception as exc:  # a failed training must not stop the agent nor touch the champion
        log.exception("training failed")
        reason = f"{type(exc).__name__}: {exc}"
        registry.record(Event.FAILED, None, reason=reason)
        return Outcome(result=Result.FAILED, error=reason)


def challenger_configs(
    champion: ModelVersion, requested: tuple[str, dict[str, Any] | None] | None, has_interactions: bool
) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(name, kind, params) of each challenger; kind "auto" with no params means "tune all kinds"."""
    champion_kind = champion.manifest.kind
    base = restore_params(champion.manifest.params)
    if not has_interactions and champion_kind != "tfidf":
        # the champion's kind learned from ratings there no longer are: refit its text settings only
        champion_kind = "tfidf"
        base = {name: value for name, value in base.items() if not name.startswith("recommender__") or name in TFIDF_RECOMMENDER}
    if requested is not None:
        kind, params = requested
        if kind == "auto" and params is not None:
            kind = champion_kind
        return [("requested", kind, params)]
    configs = [("champion-refit", champion_kind, base)]
    configs += [(name, champion_kind, {**base, **change}) for name, change in GRID]
    if has_interactions:
        configs.append(("tuned", "auto", None))
    return configs


def data_key(data: TrainingData) -> str:
    """One fingerprint of the training inputs, to tell "the same data" across ticks."""
    parts = [f"{name}:{found.sha256}" for name, found in sorted(data.fingerprints().files().items())]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _guardrails(
    settings: Settings, registry: Registry, saved: ModelVersion, data: TrainingData, champion: Recommender
) -> list[Guardrail]:
    try:
        challenger = Recommender(registry.get(saved.version).load(), saved.version, settings.fuzzy_threshold)
    except MovieRError as exc:
        return [Guardrail("artifact", False, str(exc))]
    movies = data.catalog.movies.sort_values("popularity", ascending=False, kind="stable")
    titles = movies["title"].head(SMOKE_TITLES).tolist()
    queries = [{"query": t} for t in movies["title"].head(60)] + [{"query": t} for t in LATENCY_DESCRIPTIONS]
    champion_ms, challenger_ms = p95_latency_ms([champion, challenger], queries)
    return [
        Guardrail("artifact", True, "the saved artifact verifies and loads"),
        smoke_check(challenger, titles),
        latency_check(champion_ms, challenger_ms, settings.latency_budget),
    ]


def _report(
    saved: ModelVersion,
    name: str,
    candidates: list[tuple[str, Candidate]],
    champion: ModelVersion,
    champion_report: EvaluationReport,
    verdict: Verdict,
    data: TrainingData,
) -> dict[str, Any]:
    return {
        "time": utc_now().isoformat(),
        "champion": {"version": champion.version, "evaluation": champion_report.summary()},
        "challenger": {"version": saved.version, "candidate": name, "evaluation": saved.manifest.evaluation.model_dump(mode="json")},
        "candidates": [
            {
                "name": candidate_name,
                "kind": c.kind,
                "params_changed": json_params(
                    {k: v for k, v in c.params.items() if DEFAULT_PARAMS.get(k) != v}
                ),
                "score": c.report.score,
                "train_seconds": c.train_seconds,
            }
            for candidate_name, c in candidates
        ],
        "verdict": verdict.to_dict(),
        "data": data.fingerprints().model_dump(exclude_none=True),
    }


