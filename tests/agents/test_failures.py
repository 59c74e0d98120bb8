"""A home switched to another catalogue, and ticks that fail: stated, counted, backed off."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.training import train
from movie_r.settings import Settings
from movie_r.storage.agent_status import read_status
from movie_r.storage.files import file_fingerprint
from movie_r.storage.registry import Registry
from movie_r_agents import tick
from movie_r_agents.decision_log import read_decisions
from movie_r_agents.tick import run_tick
from movie_r_api.app import create_app

from ..conftest import HEADER, MOVIES, write_csv
from ..processes import movie_r_process, stop, wait_until
from ..test_cli import movie_r
from .test_tick import settings_for


def ratings_for_the_small_catalogue(path: Path) -> Path:
    rows = [(user, movie, 4.5, user * 100 + step) for user in range(1, 40) for step, movie in enumerate((1, 2, 6, 7, 10))]
    rows += [(user, movie, 5.0, user * 100 + 10 + step) for user in range(40, 70) for step, movie in enumerate((3, 4, 11))]
    return write_csv(path, ["user_id", "movie_id", "rating", "timestamp"], rows)


def another_catalogue(path: Path) -> Path:
    return write_csv(path, HEADER, [(1000 + id_, f"{title} Returns", *rest) for id_, title, *rest in MOVIES])


def test_a_hybrid_champion_on_another_catalogue_is_a_reason_to_retrain_at_once(tmp_path: Path, catalog_path: Path) -> None:
    home = tmp_path / "home"
    ratings = ratings_for_the_small_catalogue(tmp_path / "ratings.csv")
    trained_on = Settings(home=home, catalog=catalog_path, interactions=ratings, neighbours=5, online="off")
    hybrid = train(trained_on, load_training_data(catalog_path, ratings), "hybrid").version.version
    other = another_catalogue(tmp_path / "other.csv")
    switched = Settings(home=home, catalog=other, interactions=None, neighbours=5, online="off")
    env = {"MOVIE_R_CATALOG": str(other), "MOVIE_R_INTERACTIONS": "", "MOVIE_R_ONLINE": "off"}

    before = movie_r("status", home=home, env=env).stdout
    assert "DOES NOT MATCH: trained on catalogue" in before and "the agent retrains on its next tick" in before
    with TestClient(create_app(switched)) as client:
        model = client.get("/model").json()
    assert model["version"] == hybrid and model["data_matches"] is False and str(other) in model["data_detail"]

    decision = run_tick(switched)
    mismatch = next(t for t in decision["triggers"] if t["name"] == "catalog_mismatch")
    assert mismatch["fired"]
    assert file_fingerprint(catalog_path)[:12] in mismatch["reason"] and file_fingerprint(other)[:12] in mismatch["reason"]
    assert decision["verdict"] == "retrain" and decision["outcome"]["result"] == "promoted", decision
    champion = Registry(home / "models").champion()
    assert champion.manifest.kind == "tfidf" and champion.manifest.data.catalog.sha256 == file_fingerprint(other)
    assert "data         trained on the configured data" in movie_r("status", home=home, env=env).stdout


def nothing_to_learn(path: Path, extra: int = 0) -> Path:
    """A catalogue whose texts are stop words only: every training on it fails."""
    return write_csv(path, ["id", "title", "genre"], [(i, title, "") for i, title in enumerate(["The", "A", "An", "It"][: 3 + extra])])


def outcomes(settings: Settings, ticks: int, **options) -> list[str]:
    results = []
    for _ in range(ticks):
        decision = run_tick(settings, **options)
        results.append((decision.get("outcome") or {}).get("result") or decision["verdict"])
    return results


def test_a_tick_that_fails_is_recorded_and_retried_with_backoff(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path)
    run_tick(settings)
    nothing_to_learn(catalog_path)  # the catalogue changes: every tick wants to retrain, and cannot
    assert outcomes(settings, 8) == ["failed", "failed", "backing off", "failed", "backing off", "backing off", "backing off", "failed"]
    decisions = read_decisions(settings)[1:]
    assert "DataError: the catalogue's titles, genres and overviews hold no word" in decisions[0].error
    assert decisions[2].reasons[0].startswith("backing off: the last 2 ticks on these inputs failed (DataError")
    assert "next attempt in 3 tick(s)" in decisions[4].reasons[0]

    nothing_to_learn(catalog_path, extra=1)  # the operator changes the data again: try at once
    assert outcomes(settings, 3) == ["failed", "failed", "backing off"]  # a second failure on these inputs: no wait yet
    assert outcomes(settings, 1, force=True) == ["failed"]  # the operator forces a try


def test_a_tick_that_raises_outside_training_is_a_recorded_failure(tmp_path: Path, catalog_path: Path, monkeypatch) -> None:
    settings = settings_for(tmp_path, catalog_path)
    run_tick(settings)

    def broken(*args, **kwargs):
        raise AttributeError("a bug in the triggers")  # what a programming error there looks like

    monkeypatch.setattr(tick, "check_triggers", broken)
    decision = run_tick(settings)
    assert decision["verdict"] == "failed" and "AttributeError" in decision["outcome"]["error"]
    assert read_decisions(settings)[-1].verdict == "failed"


def break_the_champion(settings: Settings) -> None:
    champion = Registry(settings.models_dir).champion()
    (champion.path / "manifest.json").write_text("{not json")


def test_a_bad_data_file_is_backed_off_too(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path)
    run_tick(settings)
    catalog_path.write_text("id;title;genre\n1;Heat;Action\n")
    verdicts = [run_tick(settings)["verdict"] for _ in range(3)]
    assert verdicts == ["data rejected", "data rejected", "backing off"]
    assert "separated by semicolons" in read_decisions(settings)[1].reasons[0]


@pytest.mark.slow
def test_failed_ticks_of_the_running_agent_reach_the_apis_metrics(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path)
    run_tick(settings)
    nothing_to_learn(catalog_path)
    env = {"MOVIE_R_CATALOG": str(catalog_path), "MOVIE_R_INTERACTIONS": "", "MOVIE_R_AGENT_JITTER_SECONDS": "0"}
    agent = movie_r_process(["agent", "--interval", "0.5"], settings.home, env)
    try:
        assert wait_until(lambda: (read_status(settings.metrics_dir) or _never()).failed_ticks >= 2, timeout=60)
    finally:
        assert stop(agent, signal.SIGTERM) == 0
    status = read_status(settings.metrics_dir)
    assert status.state == "stopped" and status.failed_ticks >= 2 and "DataError" in status.last_error
    with TestClient(create_app(settings)) as client:
        exposed = client.get("/metrics").text
    assert float(re.search(r"^movie_r_agent_failed_ticks ([\d.]+)$", exposed, re.MULTILINE).group(1)) == status.failed_ticks
    assert "movie_r_agent_consecutive_failures" in exposed
    assert json.loads((settings.metrics_dir / "agent.json").read_text())["pid"] == agent.pid


def _never():
    raise FileNotFoundError("no agent status yet")
