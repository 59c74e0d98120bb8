"""The API during an online experiment: interleaved lists, the experiment's headers and events, credit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from movie_r.lifecycle import experiments
from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.training import train
from movie_r.settings import Settings
from movie_r.storage.experiment_trace import append_point
from movie_r.storage.records import OnlineMode
from movie_r.storage.registry import Registry
from movie_r_api.app import create_app

from .test_routes import changed, events


def with_candidate(settings: Settings, mode: OnlineMode):
    """A second version of another configuration, started as the candidate of an experiment."""
    train(settings, load_training_data(settings.catalog, None), "tfidf", {"text__genre_weight": 0, "text__title_weight": 5})
    registry = Registry.of(settings)
    champion = registry.champion_version()
    other = next(v.version for v in registry.versions() if v.version != champion)
    return experiments.start(registry, other, mode, experiments.rule_of(settings), "operator", [])


def click_candidate_picks(client: TestClient, settings: Settings, answers: int, per_answer: int = 1) -> None:
    """`answers` interleaved answers, each clicked on its first `per_answer` movies the candidate drafted."""
    for i in range(answers):
        body = client.get("/recommend", params={"movie": "toy story", "k": 6}, headers={"x-request-id": f"user-{i}"}).json()
        client.app.state.movie_r.events.flush()
        event = next(e for e in reversed(events(settings)) if e.get("request_id") == body["request_id"])
        picks = [m for m, t in zip(event["movies"], event["teams"], strict=True) if t == "candidate"]
        for movie in picks[:per_answer]:
            answer = client.post("/feedback", json={"request_id": body["request_id"], "movie_id": movie, "action": "click"})
            assert answer.status_code == 201, answer.text


@pytest.fixture
def interleaving(trained_home: Settings):
    settings = changed(trained_home, events_flush_interval=0.05, watch_interval=0.1)
    experiment = with_candidate(settings, OnlineMode.INTERLEAVE)
    with TestClient(create_app(settings)) as client:
        yield client, settings, experiment


def test_answers_interleave_both_models_and_name_the_experiment(interleaving) -> None:
    client, settings, experiment = interleaving
    response = client.get("/recommend", params={"movie": "toy story", "k": 6}, headers={"x-request-id": "same-request"})
    assert response.status_code == 200
    assert response.headers["x-experiment"] == experiment.id
    assert response.headers["x-model-version"] == experiment.champion
    body = response.json()
    ids = [r["id"] for r in body["recommendations"]]
    assert len(ids) == len(set(ids)) and 0 < len(ids) <= 6
    again = client.get("/recommend", params={"movie": "toy story", "k": 6}, headers={"x-request-id": "same-request"})
    assert [r["id"] for r in again.json()["recommendations"]] == ids  # the same request id, the same list
    client.app.state.movie_r.events.flush()
    recorded = [e for e in events(settings) if e.get("experiment") == experiment.id]
    assert recorded and recorded[0]["movies"] == ids
    assert set(recorded[0]["teams"]) <= {"champion", "candidate"} and len(recorded[0]["teams"]) == len(ids)


def test_clicks_on_candidate_picks_are_credited_to_it(interleaving) -> None:
    client, settings, experiment = interleaving
    click_candidate_picks(client, settings, 30, per_answer=2)  # two clicks on one answer: both recorded
    counted = experiments.tally(experiment, settings.metrics_dir)
    assert counted.impressions == 30 and counted.judgement.wins == 30 and counted.judgement.losses == 0


def test_ab_mode_gives_each_client_one_model(trained_home: Settings) -> None:
    settings = changed(trained_home, events_flush_interval=0.05)
    experiment = with_candidate(settings, OnlineMode.AB)
    with TestClient(create_app(settings)) as client:
        versions = {client.get("/recommend", params={"movie": "toy story"}).headers["x-model-version"] for _ in range(5)}
    assert len(versions) == 1 and versions <= {experiment.champion, experiment.candidate}


def test_once_the_experiment_ends_the_champion_answers_alone(interleaving) -> None:
    client, settings, experiment = interleaving
    assert "x-experiment" in client.get("/recommend", params={"movie": "toy story"}).headers
    experiments.end(Registry.of(settings), experiment, experiments.Ending.STOPPED, "stopped by the test")
    client.app.state.movie_r.watcher.check()
    assert "x-experiment" not in client.get("/recommend", params={"movie": "toy story"}).headers


def test_metrics_name_the_running_experiment_and_count_its_answers(interleaving) -> None:
    client, settings, experiment = interleaving
    for _ in range(3):
        client.get("/recommend", params={"movie": "toy story"})
    labels = {"experiment": experiment.id, "mode": "interleave", "champion": experiment.champion, "candidate": experiment.candidate}
    running = samples(client.get("/metrics").text)
    assert running["movie_r_experiment_info", frozenset(labels.items())] == 1.0
    assert running["movie_r_experiment_answers_total", frozenset({"experiment": experiment.id, "mode": "interleave"}.items())] == 3.0
    experiments.end(Registry.of(settings), experiment, experiments.Ending.STOPPED, "stopped by the test")
    client.app.state.movie_r.watcher.check()
    assert samples(client.get("/metrics").text)["movie_r_experiment_info", frozenset(labels.items())] == 0.0


def test_metrics_show_the_agents_latest_tally_and_keep_the_final_one(interleaving) -> None:
    client, settings, experiment = interleaving
    click_candidate_picks(client, settings, 4)
    metrics = settings.storage.metrics
    assert ("movie_r_experiment_impressions", frozenset({"experiment": experiment.id}.items())) not in samples(client.get("/metrics").text)
    counted = experiments.tally(experiment, settings.metrics_dir)
    append_point(metrics, experiments.point(experiment, counted))  # what the agent's tick leaves
    running = samples(client.get("/metrics").text)
    of = {"experiment": experiment.id}
    assert running["movie_r_experiment_impressions", frozenset(of.items())] == 4.0
    assert running["movie_r_experiment_credited_clicks", frozenset({**of, "side": "candidate"}.items())] == 4.0
    assert running["movie_r_experiment_credited_clicks", frozenset({**of, "side": "champion"}.items())] == 0.0
    assert running["movie_r_experiment_statistic", frozenset({**of, "test": "better"}.items())] == counted.judgement.llr_better
    assert running["movie_r_experiment_boundary", frozenset({**of, "boundary": "upper"}.items())] == counted.judgement.upper
    assert running["movie_r_experiment_impressions_left", frozenset(of.items())] == counted.judgement.impressions_left
    experiments.end(Registry.of(settings), experiment, experiments.Ending.STOPPED, "stopped by the test", counted)
    append_point(metrics, experiments.point(experiment, counted, experiments.Ending.STOPPED))
    client.app.state.movie_r.watcher.check()
    ended = samples(client.get("/metrics").text)
    assert ended["movie_r_experiment_info", frozenset({**of, "mode": "interleave", "champion": experiment.champion,
                                                       "candidate": experiment.candidate}.items())] == 0.0  # fmt: skip
    assert ended["movie_r_experiment_impressions", frozenset(of.items())] == 4.0
    assert ended["movie_r_experiment_impressions_left", frozenset(of.items())] == 0.0


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a Prometheus text page, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
