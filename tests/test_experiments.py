"""Online experiments on real storage: start, tally events against feedback, end with a reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from movie_r.answering.interleaving import Team, team_draft
from movie_r.errors import MovieRError
from movie_r.lifecycle import experiments
from movie_r.lifecycle.experiments import Ending
from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.training import train
from movie_r.storage import journal
from movie_r.storage.files import utc_now
from movie_r.storage.lineage import statuses
from movie_r.storage.records import Event, ExperimentRule, FeedbackEvent, OnlineMode, RequestEvent
from movie_r.storage.registry import Registry

RULE = ExperimentRule(alpha=0.05, power=0.8, min_effect=0.1, max_impressions=5000, max_hours=72, quiet_minutes=15)


@pytest.fixture
def two_versions(trained_home):
    """A home with a champion and a second, servable version; its registry."""
    data = load_training_data(trained_home.catalog, None)
    train(trained_home, data, "tfidf", {"text__genre_weight": 5})
    registry = Registry.of(trained_home)
    champion = registry.champion_version()
    other = next(v.version for v in registry.versions() if v.version != champion)
    return trained_home, registry, champion, other


def serve(metrics: Path, experiment, n: int, clicks_for: Team | None, prefix: str = "r") -> None:
    """`n` interleaved answers as the API records them, each clicked on the first pick of `clicks_for`."""
    events, feedback = metrics / "events" / "test-1.jsonl", metrics / "feedback" / "test-1.jsonl"
    now = utc_now()
    for i in range(n):
        request = f"{prefix}{i}"
        answer = team_draft([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 6, request, experiment.id)
        journal.append_record(events, RequestEvent(
            ts=now.timestamp(), request_id=request, model_version=experiment.champion, experiment=experiment.id,
            movies=list(answer.movies), teams=[t.value for t in answer.teams],
        ).model_dump(mode="json"))  # fmt: skip
        if clicks_for is not None:
            movie = next(m for m, t in zip(answer.movies, answer.teams, strict=True) if t is clicks_for)
            journal.append_record(feedback, FeedbackEvent(
                time=now, request_id=request, movie_id=movie, action="click", source=f"client-{i}"
            ).model_dump(mode="json"))  # fmt: skip


def test_start_links_the_candidate_and_records_the_experiment(two_versions):
    settings, registry, champion, other = two_versions
    experiment = experiments.start(registry, other, OnlineMode.INTERLEAVE, RULE, "agent", ["offline gate passed"])
    assert registry.candidate_version() == other and registry.champion_version() == champion
    assert experiments.current(registry) == experiment
    assert registry.events()[-1].event == Event.EXPERIMENT_STARTED
    with pytest.raises(MovieRError, match="is running"):
        experiments.start(registry, other, OnlineMode.INTERLEAVE, RULE, "agent", [])


def test_a_candidate_whose_picks_are_clicked_is_promoted_online(two_versions):
    settings, registry, champion, other = two_versions
    experiment = experiments.start(registry, other, OnlineMode.INTERLEAVE, RULE, "operator", [])
    serve(settings.metrics_dir, experiment, 10, Team.CANDIDATE)
    early = experiments.tally(experiment, settings.metrics_dir)
    assert early.judgement.wins == 10 and experiments.verdict(experiment, early) is None  # not enough yet
    serve(settings.metrics_dir, experiment, 40, Team.CANDIDATE, prefix="more")
    counted = experiments.tally(experiment, settings.metrics_dir)
    ending, reason = experiments.verdict(experiment, counted)
    assert ending is Ending.PROMOTED and "candidate better" in reason
    experiments.end(registry, experiment, ending, reason, counted)
    assert registry.champion_version() == other and registry.candidate_version() is None
    assert experiments.current(registry) is None
    assert statuses(registry)[champion] == "previous"


def test_a_candidate_whose_picks_are_passed_over_is_rejected_online(two_versions):
    settings, registry, champion, other = two_versions
    experiment = experiments.start(registry, other, OnlineMode.INTERLEAVE, RULE, "agent", ["offline gate passed"])
    serve(settings.metrics_dir, experiment, 50, Team.CHAMPION)
    counted = experiments.tally(experiment, settings.metrics_dir)
    ending, reason = experiments.verdict(experiment, counted)
    assert ending is Ending.REJECTED and "candidate worse" in reason
    experiments.end(registry, experiment, ending, reason, counted)
    assert registry.champion_version() == champion
    assert statuses(registry)[other] == "rejected"


def test_no_feedback_in_the_first_window_lets_the_offline_verdict_stand(two_versions):
    settings, registry, champion, other = two_versions
    experiment = experiments.start(registry, other, OnlineMode.INTERLEAVE, RULE, "agent", ["challenger scored higher"])
    serve(settings.metrics_dir, experiment, 30, None)
    counted = experiments.tally(experiment, settings.metrics_dir)
    assert counted.impressions == 30 and counted.clicked_impressions == 0
    assert experiments.verdict(experiment, counted) is None  # the window is still open
    later = experiment.started_at + timedelta(minutes=RULE.quiet_minutes)
    ending, reason = experiments.verdict(experiment, counted, now=later)
    assert ending is Ending.PROMOTED and "no feedback in the first window" in reason and "challenger scored higher" in reason


def test_an_operators_experiment_without_evidence_promotes_nothing(two_versions):
    settings, registry, champion, other = two_versions
    experiment = experiments.start(registry, other, OnlineMode.INTERLEAVE, RULE, "operator", [])
    later = experiment.started_at + timedelta(hours=RULE.max_hours)
    ending, _ = experiments.verdict(experiment, experiments.tally(experiment, settings.metrics_dir), now=later)
    assert ending is Ending.REJECTED


def test_clicks_on_another_experiment_or_outside_the_list_earn_nothing(two_versions):
    settings, registry, champion, other = two_versions
    experiment = experiments.start(registry, other, OnlineMode.INTERLEAVE, RULE, "agent", [])
    serve(settings.metrics_dir, experiment.model_copy(update={"id": "exp-other"}), 20, Team.CANDIDATE)
    journal.append_record(settings.metrics_dir / "feedback" / "x.jsonl", FeedbackEvent(
        time=utc_now(), request_id="r0", movie_id=999, action="click").model_dump(mode="json"))  # fmt: skip
    counted = experiments.tally(experiment, settings.metrics_dir)
    assert counted.impressions == 0 and counted.judgement.wins == 0


def test_ab_mode_pairs_the_arms_impressions(two_versions):
    settings, registry, champion, other = two_versions
    experiment = experiments.start(registry, other, OnlineMode.AB, RULE, "agent", [])
    events, feedback = settings.metrics_dir / "events" / "t.jsonl", settings.metrics_dir / "feedback" / "t.jsonl"
    for i in range(60):
        arm = Team.CANDIDATE if i % 2 else Team.CHAMPION
        journal.append_record(events, RequestEvent(
            ts=utc_now().timestamp(), request_id=f"ab{i}", experiment=experiment.id, arm=arm.value).model_dump(mode="json"))  # fmt: skip
        if arm is Team.CANDIDATE:
            journal.append_record(feedback, FeedbackEvent(
                time=utc_now(), request_id=f"ab{i}", movie_id=1, action="like").model_dump(mode="json"))  # fmt: skip
    counted = experiments.tally(experiment, settings.metrics_dir)
    assert counted.arms == {"champion": (30, 0), "candidate": (30, 30)}
    assert counted.judgement.wins == 30 and counted.judgement.losses == 0
    assert experiments.verdict(experiment, counted)[0] is Ending.PROMOTED
