"""The agent and the CLI as real processes: scheduler ticks, locks, kill -9, rollback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from movie_r.storage.registry import Registry
from tests.synthetic import synthetic_catalog, write_catalog_csv

from ..processes import movie_r_process, stop, wait_until
from .test_tick import AFTER_A_WEAK_CHAMPION, WORSE

pytestmark = pytest.mark.slow


def cli(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "movie_r.cli.main", *args, "--home", str(home), "-q"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def environment(catalog: Path) -> dict[str, str]:
    # the offline gate alone: tests/e2e/test_online.py runs these processes with the online stage
    return {"MOVIE_R_CATALOG": str(catalog), "MOVIE_R_INTERACTIONS": "", "MOVIE_R_NEIGHBOURS": "10", "MOVIE_R_ONLINE": "off"}


def worse_params() -> list[str]:
    return [arg for name, value in WORSE.items() for arg in ("--param", f"{name}={value}")]


def decisions(home: Path) -> list[dict]:
    path = home / "reports" / "decisions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_scheduler_ticks_on_its_interval_and_stops_cleanly_on_sigterm(tmp_path: Path, catalog_path: Path) -> None:
    home = tmp_path / "home"
    env = {**environment(catalog_path), "MOVIE_R_AGENT_JITTER_SECONDS": "0"}
    agent = movie_r_process(["agent", "--interval", "1"], home, env)
    try:
        assert wait_until(lambda: len(decisions(home)) >= 3, timeout=30), decisions(home)
    finally:
        stop(agent, signal.SIGTERM)
    verdicts = [d["verdict"] for d in decisions(home)]
    assert verdicts[0] == "first champion" and set(verdicts[1:]) == {"no retrain"}
    assert Registry(home / "models").champion_version() is not None
    assert "agent stopped" in (home / "agent.log").read_text()


def test_after_installing_a_first_champion_the_agent_ticks_again_at_once(tmp_path: Path, catalog_path: Path) -> None:
    home = tmp_path / "home"
    env = {**environment(catalog_path), "MOVIE_R_AGENT_JITTER_SECONDS": "0"}
    agent = movie_r_process(["agent", "--interval", "3600"], home, env)  # the next scheduled tick is an hour away
    try:
        assert wait_until(lambda: len(decisions(home)) >= 2, timeout=60), decisions(home)
    finally:
        stop(agent, signal.SIGTERM)
    first, second = decisions(home)[:2]
    assert first["verdict"] == "first champion" and second["champion"] == first["outcome"]["challenger"]
    assert second["verdict"] == "no retrain"  # no ratings here: nothing better to find, and one follow-up only


def test_forced_retrain_promotes_a_better_challenger_and_rejects_a_worse_one(tmp_path: Path, catalog_path: Path) -> None:
    home = tmp_path / "home"
    env = {**environment(catalog_path), **{f"MOVIE_R_{k.upper()}": str(v) for k, v in AFTER_A_WEAK_CHAMPION.items()}}
    assert cli(home, "retrain", *worse_params(), env=env).returncode == 0  # a weak first champion
    link = home / "models" / "champion"
    weak = os.readlink(link)
    better = cli(home, "retrain", "--force", env=env)
    assert better.returncode == 0, better.stderr
    assert "=> promoted" in better.stdout, better.stdout
    promoted = os.readlink(link)
    assert promoted != weak and not os.path.isabs(promoted)
    worse = cli(home, "retrain", "--force", *worse_params(), env=env)
    assert "=> rejected" in worse.stdout
    assert os.readlink(link) == promoted
    rolled = cli(home, "rollback", env=env)
    assert rolled.returncode == 0 and os.readlink(link) == weak
    listing = cli(home, "decisions", "-n", "2", env=env).stdout
    assert "=> rejected" in listing


def grown_catalogue(tmp_path: Path, movies: int, seed: int) -> tuple[Path, Path]:
    """A big catalogue, long to train on, and its first 300 movies, quick to train a champion on."""
    frame = synthetic_catalog(movies, seed=seed)
    return write_catalog_csv(frame.head(300), tmp_path / "small.csv"), write_catalog_csv(frame, tmp_path / "big.csv")


def test_two_concurrent_retrains_do_not_both_train(tmp_path: Path) -> None:
    home = tmp_path / "home"
    small, catalog = grown_catalogue(tmp_path, 6000, seed=1)
    assert cli(home, "retrain", env=environment(small)).returncode == 0  # the champion: the retrains below train long
    env = environment(catalog)
    command = [sys.executable, "-m", "movie_r.cli.main", "retrain", "--force", "--home", str(home), "-q"]
    both = [subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=300)[0] for process in both]
    verdicts = sorted(d["verdict"] for d in decisions(home)[1:])
    assert verdicts == ["retrain", "skipped"], outputs
    assert "another trainer holds" in "".join(outputs)


def test_killing_a_trainer_leaves_no_partial_version(tmp_path: Path) -> None:
    home = tmp_path / "home"
    small, catalog = grown_catalogue(tmp_path, 12000, seed=2)
    assert cli(home, "retrain", env=environment(small)).returncode == 0  # the champion; the trainer killed below trains long
    env = environment(catalog)
    registry = Registry(home / "models")
    before = [v.version for v in registry.versions()]
    champion = registry.champion_version()
    trainer = movie_r_process(["retrain", "--force", "--param", "text__genre_weight=4"], home, env)
    staging = lambda: any(p.name.startswith(".") for p in registry.versions_dir.iterdir())  # noqa: E731
    caught_writing = wait_until(staging, timeout=120, interval=0.002)
    stop(trainer, signal.SIGKILL)
    assert caught_writing, "the trainer was never seen writing a version"
    assert [v.version for v in registry.versions()] == before
    assert registry.champion_version() == champion
    assert all(p.name in before or p.name.startswith(".") for p in registry.versions_dir.iterdir())
    cli(home, "retrain", env=environment(small))  # the next trainer sweeps what the killed one left (first, whatever it trains)
    assert not [p for p in registry.versions_dir.iterdir() if p.name.startswith(".")]
    assert decisions(home)[-1]["cleaned"]
