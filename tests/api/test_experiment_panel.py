"""The console's experiment panel: what it shows of a running experiment, of the last one that
ended, and of none; always from the agent's trace, with outside text kept text."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import movie_r_api.console
from movie_r.lifecycle import experiments
from movie_r.lifecycle.sequential import judge
from movie_r.settings import Settings
from movie_r.storage.experiment_trace import append_point
from movie_r.storage.files import write_json_atomic
from movie_r.storage.records import Experiment, OnlineMode
from movie_r.storage.registry import Registry
from movie_r_api.app import create_app

from .test_experiment_serving import with_candidate

HOSTILE = '<img src=x onerror="window.__injected=1">'


def tally(experiment: Experiment, wins: int, losses: int, ties: int) -> experiments.Tally:
    judgement = judge(wins, losses, ties, experiments.stopping_rule(experiment.rule))
    return experiments.Tally(
        impressions=3 * (wins + losses + ties), clicked_impressions=wins + losses + ties, judgement=judgement
    )


def panel(settings: Settings) -> str:
    with TestClient(create_app(settings)) as client:
        response = client.get("/console/panels")
    assert response.status_code == 200
    return response.json()["html"]["experiment"]


@pytest.fixture(autouse=True)
def uncached(monkeypatch) -> None:
    monkeypatch.setattr(movie_r_api.console, "FRESH_SECONDS", 0.0)


def test_without_any_experiment_the_panel_says_how_to_start_one(trained_home: Settings) -> None:
    html = panel(trained_home)
    assert "No experiment has run" in html and "movie-r experiment start VERSION" in html and "MOVIE_R_ONLINE" in html


def test_a_running_experiment_shows_versions_counts_and_the_statistic_over_time(trained_home: Settings) -> None:
    experiment = with_candidate(trained_home, OnlineMode.INTERLEAVE)
    assert "none yet: the agent tallies it every tick" in panel(trained_home)
    for counts in ((1, 0, 1), (3, 1, 1), (6, 2, 2)):
        append_point(trained_home.storage.metrics, experiments.point(experiment, tally(experiment, *counts)))
    html = panel(trained_home)
    assert experiment.id in html and experiment.candidate in html and experiment.champion in html and "(interleave)" in html
    assert "running</span>: continue" in html
    assert "30, 10 with clicks" in html and "candidate 6 · champion 2 · ties 2" in html
    judgement = tally(experiment, 6, 2, 2).judgement
    assert f"better {judgement.llr_better:.2f} · worse {judgement.llr_worse:.2f}" in html
    assert f"decides {judgement.upper:.2f}" in html and f"no difference {judgement.lower:.2f}" in html  # the boundaries, drawn
    assert f"about {judgement.impressions_left} at the current effect" in html
    assert html.count("<polyline") == 2 and html.count('points="') == 2
    assert len(html.split('class="series s1" points="')[1].split('"')[0].split()) == 4  # the start, then three ticks


def test_an_ended_experiment_shows_its_verdict_and_final_counts(trained_home: Settings) -> None:
    experiment = with_candidate(trained_home, OnlineMode.INTERLEAVE)
    counted = tally(experiment, 2, 5, 1)
    append_point(trained_home.storage.metrics, experiments.point(experiment, counted))
    experiments.end(Registry.of(trained_home), experiment, experiments.Ending.REJECTED, "online: candidate worse", counted)
    append_point(trained_home.storage.metrics, experiments.point(experiment, counted, experiments.Ending.REJECTED))
    html = panel(trained_home)
    assert experiment.id in html and "<strong>rejected</strong>" in html and "online: candidate worse" in html
    assert "candidate 2 · champion 5 · ties 1" in html and "none: ended" in html and "as it ended" in html
    assert "running" not in html


def test_ids_and_reasons_from_the_storage_root_are_shown_as_text(trained_home: Settings) -> None:
    experiment = with_candidate(trained_home, OnlineMode.AB)
    registry = Registry.of(trained_home)
    experiments.end(registry, experiment, experiments.Ending.STOPPED, f"stopped {HOSTILE}")
    assert "stopped &lt;img src=x onerror=" in panel(trained_home) and HOSTILE not in panel(trained_home)
    hostile = with_candidate(trained_home, OnlineMode.AB).model_copy(update={"id": f"exp-{HOSTILE}"})
    write_json_atomic(registry.experiment_path, hostile.model_dump(mode="json"))  # an id that names no trace file
    html = panel(trained_home)
    assert "exp-&lt;img src=x" in html and HOSTILE not in html and "none yet" in html
