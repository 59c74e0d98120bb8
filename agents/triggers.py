"""Reasons to retrain, each measured against its threshold and stated in words.

Every check returns a `TriggerCheck` whether it fires or not, so a decision record shows
what was looked at and why nothing happened as clearly as why something did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from movie_r.settings import TriggerSettings
from movie_r.storage.manifest import FileFingerprint, Manifest, TrainedOn
from movie_r.storage.records import FeedbackStats, Summary

# what clients' own requests and feedback measure: retrains they start are bounded per day
CLIENT_FED_TRIGGERS = frozenset({"cold_start_rate", "mean_similarity", "negative_feedback"})


@dataclass(frozen=True)
class TriggerCheck:
    name: str
    enabled: bool
    fired: bool
    value: Any
    threshold: Any
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_triggers(
    settings: TriggerSettings,
    summary: Summary,
    feedback: FeedbackStats,
    champion: Manifest,
    current_data: TrainedOn,
) -> list[TriggerCheck]:
    """All triggers for one tick: data quality, model performance, model age, data change.

    `champion` is the champion's manifest; `current_data` the fingerprints of today's inputs.
    """
    return [
        cold_start_rate(settings, summary),
        mean_similarity(settings, summary),
        negative_feedback(settings, feedback),
        model_age(settings, summary),
        catalog_mismatch(champion.data.catalog, current_data.catalog),
        data_changed(settings, champion.data, current_data),
        unused_interactions(settings, champion.kind, current_data),
    ]


def cold_start_rate(settings: TriggerSettings, summary: Summary) -> TriggerCheck:
    value, served = summary.cold_start_rate, summary.served
    unknown = ", ".join(repr(q.query) for q in summary.top_unknown_queries[:3])

    def describe(fired: bool) -> str:
        reason = f"cold-start rate {value:.2f} {'>' if fired else '<='} {settings.cold_start_rate_max:.2f} over {served} requests"
        return reason + (f"; most asked unknown: {unknown}" if fired and unknown else "")

    return _measured(
        "cold_start_rate", settings.trigger_cold_start, value, settings.cold_start_rate_max, True,
        served, settings.min_requests, "requests served by the champion", describe,
    )  # fmt: skip


def mean_similarity(settings: TriggerSettings, summary: Summary) -> TriggerCheck:
    value, served, threshold = summary.mean_similarity, summary.served, settings.mean_similarity_min
    return _measured(
        "mean_similarity", settings.trigger_similarity, value, threshold, False,
        served, settings.min_requests, "requests served by the champion",
        lambda fired: f"mean similarity of served lists {value:.3f} {'<' if fired else '>='} {threshold:.3f}",
    )  # fmt: skip


def negative_feedback(settings: TriggerSettings, feedback: FeedbackStats) -> TriggerCheck:
    value, total, threshold = feedback.negative_share, feedback.total, settings.negative_feedback_max
    return _measured(
        "negative_feedback", settings.trigger_feedback, value, threshold, True,
        total, settings.min_feedback, "feedback events",
        lambda fired: f"share of negative feedback {value:.2f} {'>' if fired else '<='} {threshold:.2f} over {total} events",
    )  # fmt: skip


def _measured(
    name: str,
    enabled: bool,
    value: float | None,
    threshold: float,
    fires_above: bool,
    evidence: int,
    minimum: int,
    evidence_name: str,
    describe: Callable[[bool], str],
) -> TriggerCheck:
    """A threshold on a measured rate, judged only with at least `minimum` observations."""
    if evidence < minimum or value is None:
        reason = f"only {evidence} {evidence_name} (< {minimum}): too few to judge"
        return TriggerCheck(name, enabled, False, value, threshold, reason)
    fired = value > threshold if fires_above else value < threshold
    return TriggerCheck(name, enabled, enabled and fired, value, threshold, describe(fired))


def model_age(settings: TriggerSettings, summary: Summary) -> TriggerCheck:
    value, threshold = summary.hours_since_retrain, settings.max_age_hours
    fired = value is not None and value > threshold
    reason = (
        "no champion age known"
        if value is None
        else f"champion is {value:.1f} h old {'>' if fired else '<='} {threshold:g} h"
    )
    return TriggerCheck("model_age", settings.trigger_age, settings.trigger_age and fired, value, threshold, reason)


def catalog_mismatch(champion_catalog: FileFingerprint | None, configured: FileFingerprint | None) -> TriggerCheck:
    """The champion knows another catalogue than the configured one: it would answer with
    movies the configured data does not have. Always on: retrain at once, whatever the traffic."""
    then, now = champion_catalog.sha256 if champion_catalog else None, configured.sha256 if configured else None
    fired = then != now
    if fired:
        reason = f"the champion was trained on {describe_catalog(champion_catalog)}; the configured catalogue is {describe_catalog(configured)}"
    else:
        reason = "the champion was trained on the configured catalogue"
    return TriggerCheck("catalog_mismatch", True, fired, then, now, reason)


def describe_catalog(catalog: FileFingerprint | None) -> str:
    """`path (N movies, sha256 1a2b3c4d5e6f)` for a manifest's catalogue fingerprint."""
    if not catalog:
        return "an unrecorded catalogue"
    return f"{catalog.path} ({catalog.rows} movies, sha256 {str(catalog.sha256)[:12]})"


def data_changed(settings: TriggerSettings, champion_data: TrainedOn, current_data: TrainedOn) -> TriggerCheck:
    then, now = champion_data.files(), current_data.files()
    absent = FileFingerprint()
    changed = [name for name in sorted(set(then) | set(now)) if then.get(name, absent).sha256 != now.get(name, absent).sha256]
    details = [f"{name} {then.get(name, absent).rows or 0} -> {now.get(name, absent).rows or 0} rows" for name in changed]
    reason = ("changed since the champion was trained: " + "; ".join(details)) if changed else "same data as the champion"
    enabled = settings.trigger_data_change
    return TriggerCheck("data_changed", enabled, enabled and bool(changed), changed, "any change", reason)


def unused_interactions(settings: TriggerSettings, champion_kind: str, current_data: TrainedOn) -> TriggerCheck:
    """Ratings are available but the champion reads only text: a stronger kind may exist."""
    available = current_data.interactions is not None
    fired = available and champion_kind == "tfidf"
    if fired:
        reason = "interactions are available but the champion (tfidf) does not use them"
    elif available:
        reason = f"the champion ({champion_kind}) uses the interactions"
    else:
        reason = "no interactions to use"
    enabled = settings.trigger_unused_interactions
    return TriggerCheck("unused_interactions", enabled, enabled and fired, champion_kind, "a kind that uses interactions", reason)
