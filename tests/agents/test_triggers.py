"""Each retraining trigger: fires, does not fire, needs enough evidence, can be switched off."""

from __future__ import annotations

from movie_r.settings import Settings
from movie_r.storage.manifest import TrainedOn
from movie_r.storage.records import FeedbackStats, Summary, UnknownQuery
from movie_r_agents.triggers import (
    cold_start_rate,
    data_changed,
    mean_similarity,
    model_age,
    negative_feedback,
    unused_interactions,
)

SETTINGS = Settings(cold_start_rate_max=0.3, min_requests=50, mean_similarity_min=0.2, negative_feedback_max=0.4, min_feedback=20)


def traffic(served: int, cold: float = 0.0, similarity: float | None = 0.5, age: float | None = 1.0) -> Summary:
    return Summary(served=served, cold_start_rate=cold, mean_similarity=similarity, hours_since_retrain=age,
                   top_unknown_queries=[UnknownQuery(query="dune part three", count=9)])  # fmt: skip


def test_cold_start_rate_fires_above_threshold_and_names_what_was_missing() -> None:
    check = cold_start_rate(SETTINGS, traffic(100, cold=0.6))
    assert check.fired
    assert "0.60 > 0.30 over 100 requests" in check.reason and "'dune part three'" in check.reason


def test_cold_start_rate_below_threshold_does_not_fire() -> None:
    assert not cold_start_rate(SETTINGS, traffic(100, cold=0.2)).fired


def test_three_requests_do_not_trigger_a_retrain() -> None:
    check = cold_start_rate(SETTINGS, traffic(3, cold=1.0))
    assert not check.fired
    assert "too few to judge" in check.reason


def test_a_disabled_trigger_reports_but_never_fires() -> None:
    check = cold_start_rate(Settings(trigger_cold_start=False, min_requests=1), traffic(100, cold=0.9))
    assert (check.enabled, check.fired) == (False, False)


def test_mean_similarity_fires_below_threshold_with_enough_traffic() -> None:
    assert mean_similarity(SETTINGS, traffic(100, similarity=0.1)).fired
    assert not mean_similarity(SETTINGS, traffic(100, similarity=0.3)).fired
    assert not mean_similarity(SETTINGS, traffic(10, similarity=0.1)).fired


def test_negative_feedback_fires_above_threshold_with_enough_events() -> None:
    assert negative_feedback(SETTINGS, FeedbackStats(total=40, negative_share=0.5)).fired
    assert not negative_feedback(SETTINGS, FeedbackStats(total=40, negative_share=0.3)).fired
    assert not negative_feedback(SETTINGS, FeedbackStats(total=5, negative_share=1.0)).fired


def test_model_age_fires_past_the_maximum() -> None:
    assert model_age(Settings(max_age_hours=24), traffic(0, age=30)).fired
    assert not model_age(Settings(max_age_hours=24), traffic(0, age=2)).fired


def test_data_change_names_the_input_and_row_counts() -> None:
    before = {"catalog": {"sha256": "a", "rows": 10}}
    check = data_changed(SETTINGS, inputs(before), inputs({"catalog": {"sha256": "b", "rows": 12}}))
    assert check.fired and check.value == ["catalog"]
    assert "catalog 10 -> 12 rows" in check.reason
    assert not data_changed(SETTINGS, inputs(before), inputs({"catalog": {"sha256": "a", "rows": 10}})).fired
    assert data_changed(SETTINGS, inputs(before), inputs({**before, "interactions": {"sha256": "c", "rows": 5}})).value == ["interactions"]


def test_unused_interactions_fire_only_for_a_text_only_champion() -> None:
    with_ratings = inputs({"catalog": {"sha256": "a"}, "interactions": {"sha256": "b"}})
    assert unused_interactions(SETTINGS, "tfidf", with_ratings).fired
    assert not unused_interactions(SETTINGS, "hybrid", with_ratings).fired
    assert not unused_interactions(SETTINGS, "tfidf", inputs({"catalog": {"sha256": "a"}})).fired


def inputs(files: dict) -> TrainedOn:
    """The fingerprints of training inputs, written as a manifest holds them."""
    return TrainedOn.model_validate(files)
