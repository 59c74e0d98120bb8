"""MOVIE_R_SKIP_INVALID and MOVIE_R_SKIP_UNKNOWN: the data flags of `movie-r train` as settings,
so the agent (which takes no flags) can be told to drop bad rows, and `status` says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from movie_r.storage.agent_status import AgentStatus, write_status
from movie_r.storage.registry import Registry
from movie_r_agents.tick import run_tick

from ..conftest import HEADER, MOVIES, write_csv
from .test_tick import settings_for


def movie_r(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "movie_r.cli.main", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300
    )


def with_duplicate(path: Path) -> Path:
    return write_csv(path, HEADER, [*MOVIES, MOVIES[0]])


def test_the_agent_drops_unusable_rows_when_skip_invalid_is_set(tmp_path: Path) -> None:
    catalog = with_duplicate(tmp_path / "movies.csv")
    assert run_tick(settings_for(tmp_path, catalog))["verdict"] == "data rejected"
    decision = run_tick(settings_for(tmp_path, catalog, skip_invalid=True))
    assert decision["verdict"] == "first champion"
    assert Registry(tmp_path / "home" / "models").champion() is not None


def test_the_agent_drops_ratings_of_unknown_movies_when_skip_unknown_is_set(tmp_path: Path, catalog_path: Path) -> None:
    ratings = write_csv(
        tmp_path / "ratings.csv", ["user_id", "movie_id", "rating"], [("u1", 1, 5), ("u1", 2, 4), ("u2", 999, 5)]
    )
    refused = run_tick(settings_for(tmp_path, catalog_path).model_copy(update={"interactions": ratings}))
    assert refused["verdict"] == "data rejected" and "MOVIE_R_SKIP_UNKNOWN=1" in refused["reasons"][0]
    settings = settings_for(tmp_path, catalog_path, skip_unknown=True).model_copy(update={"interactions": ratings})
    assert run_tick(settings)["verdict"] == "first champion"


def test_setting_skip_invalid_ends_the_backoff_of_a_rejected_file(tmp_path: Path) -> None:
    catalog = with_duplicate(tmp_path / "movies.csv")
    refusing = settings_for(tmp_path, catalog)
    verdicts = [run_tick(refusing)["verdict"] for _ in range(3)]
    assert verdicts == ["data rejected", "data rejected", "backing off"]
    assert run_tick(settings_for(tmp_path, catalog, skip_invalid=True))["verdict"] == "first champion"


def test_train_honours_movie_r_skip_invalid(tmp_path: Path) -> None:
    catalog = with_duplicate(tmp_path / "movies.csv")
    env = {"MOVIE_R_HOME": str(tmp_path / "home"), "MOVIE_R_CATALOG": str(catalog), "MOVIE_R_INTERACTIONS": ""}
    refused = movie_r("train", env=env)
    assert refused.returncode == 1 and "MOVIE_R_SKIP_INVALID=1" in refused.stderr
    trained = movie_r("train", env={**env, "MOVIE_R_SKIP_INVALID": "1"})
    assert trained.returncode == 0, trained.stderr
    assert "skipped 1 unusable rows: row 14" in trained.stderr


def test_status_says_the_data_was_rejected_and_what_to_set(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path)
    run_tick(settings)  # a champion on the good file
    with_duplicate(catalog_path)
    decision = run_tick(settings, force=True)
    status = AgentStatus.new(600)  # what the running agent writes after that tick
    status.last_verdict, status.last_error = decision["verdict"], "; ".join(decision["reasons"])
    write_status(settings.metrics_dir, status)
    env = {"MOVIE_R_HOME": str(settings.home), "MOVIE_R_CATALOG": str(catalog_path), "MOVIE_R_INTERACTIONS": ""}
    shown = movie_r("status", env=env)
    assert shown.returncode == 0, shown.stderr
    [line] = [line for line in shown.stdout.splitlines() if "rejected:" in line]
    assert "duplicate id 1" in line and line.endswith("; fix the file or set MOVIE_R_SKIP_INVALID=1")
    assert "retrains on its next tick" not in shown.stdout
