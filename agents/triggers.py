"""Reasons to retrain, each measured against its threshold and stated in words.

Every check returns a `TriggerCheck` whether it fires or not, so a decision record shows
what was looked at and why nothing happened as clearly as why something did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from movie_r.settings import Settings


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
    settings: Settings,
    summary: dict[str, Any],
    feedback: dict[str, Any],
    champion: dict[str, Any],
    current_data: dict[str, Any],
) -> list[TriggerCheck]:
    """All triggers for one tick: data quality, model performance, model age, data change.

    `champion` is the champion's manifest; `current_data` the fingerprints of today's inputs.
    """
    return [
        cold_start_rate(settings, summary),
        mean_similarity(settings, summary),
        negative_feedback(settings, feedback),
        model_age(settings, summary),
        data_changed(settings, champion.get("data", {}), current_data),
        unused_interactions(settings, champion.get("kind", "tfidf"), current_data),
    ]


def cold_start_rate(settings: Settings, summary: dict[str, Any]) -> TriggerCheck:
    value, served = summary.get("cold_start_rate", 0.0), summary.get("served", 0)
    threshold = settings.cold_start_rate_max
    if served < settings.min_requests:
        reason = f"only {served} requests served by the champion (< {settings.min_requests}): too few to judge"
        return TriggerCheck("cold_start_rate", settings.trigger_cold_start, False, value, threshold, reason)
    fired = value > threshold
    unknown = ", ".join(repr(q["query"]) for q in summary.get("top_unknown_queries", [])[:3])
    reason = (
        f"cold-start rate {value:.2f} {'>' if fired else '<='} {threshold:.2f} over {served} requests"
        + (f"; most asked unknown: {unknown}" if fired and unknown else "")
    )
    return TriggerCheck("cold_start_rate", settings.trigger_cold_start, settings.trigger_cold_start and fired, value, threshold, reason)


def mean_similarity(settings: Settings, summary: dict[str, Any]) -> TriggerCheck:
    value, served = summary.get("mean_similarity"), summary.get("served", 0)
    threshold = settings.mean_similarity_min
    if served < settings.min_requests or value is None:
        reason = f"only {served} requests served by the champion (< {settings.min_requests}): too few to judge"
        return TriggerCheck("mean_similarity", settings.trigger_similarity, False, value, threshold, reason)
    fired = value < threshold
    reason = f"mean similarity of served lists {value:.3f} {'<' if fired else '>='} {threshold:.3f}"
    return TriggerCheck("mean_similarity", settings.trigger_similarity, settings.trigger_similarity and fired, value, threshold, reason)


def negative_feedback(settings: Settings, feedback: dict[str, Any]) -> TriggerCheck:
    value, total = feedback.get("negative_share", 0.0), feedback.get("total", 0)
    threshold = settings.negative_feedback_max
    if total < settings.min_feedback:
        reason = f"only {total} feedback events (< {settings.min_feedback}): too few to judge"
        return TriggerCheck("negative_feedback", settings.trigger_feedback, False, value, threshold, reason)
    fired = value > threshold
    reason = f"share of negative feedback {value:.2f} {'>' if fired else '<='} {threshold:.2f} over {total} events"
    return TriggerCheck("negative_feedback", settings.trigger_feedback, settings.trigger_feedback and fired, value, threshold, reason)


def model_age(settings: Settings, summary: dict[str, Any]) -> TriggerCheck:
    value, threshold = summary.get("hours_since_retrain"), settings.max_age_hours
    fired = value is not None and value > threshold
    reason = (
        "no champion age known"
        if value is None
        else f"champion is {value:.1f} h old {'>' if fired else '<='} {threshold:g} h"
    )
    return TriggerCheck("model_age", settings.trigger_age, settings.trigger_age and fired, value, threshold, reason)


def data_changed(settings: Settings, champion_data: dict[str, Any], current_data: dict[str, Any]) -> TriggerCheck:
    changed = [
        name
        for name in sorted(set(champion_data) | set(current_data))
        if (champion_data.get(name) or {}).get("sha256") != (current_data.get(name) or {}).get("sha256")
    ]
    details = [
        f"{name} {(champion_data.get(name) or {}).get('rows', 0)} -> {(current_data.get(name) or {}).get('rows', 0)} rows"
        for name in changed
    ]
    reason = ("changed since the champion was trained: " + "; ".join(details)) if changed else "same data as the champion"
    enabled = settings.trigger_data_change
    return TriggerCheck("data_changed", enabled, enabled and bool(changed), changed, "any change", reason)


def unused_interactions(settings: Settings, champion_kind: str, current_data: dict[str, Any]) -> TriggerCheck:
    """Ratings are available but the champion reads only text: a stronger kind may exist."""
    available = "interactions" in current_data
    fired = available and champion_kind == "tfidf"
    if fired:
        reason = "interactions are available but the champion (tfidf) does not use them"
    elif available:
        reason = f"the champion ({champion_kind}) uses the interactions"
    else:
        reason = "no interactions to use"
    enabled = settings.trigger_unused_interactions
    return TriggerCheck("unused_interactions", enabled, enabled and fired, champion_kind, "a kind that uses interactions", reason)
