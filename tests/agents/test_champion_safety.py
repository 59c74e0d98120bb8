"""A champion every API can load: verified before it is installed, restored when it breaks,
never overwritten by a tick that judged against another one."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.promotion import ChampionChanged, promote
from movie_r.lifecycle.training import train
from movie_r.settings import Settings
from movie_r.storage.registry import Registry
from movie_r_agents.decision_log import read_decisions
from movie_r_agents.tick import run_tick
from tests.synthetic import synthetic_catalog, write_catalog_csv

from ..processes import movie_r_process, start_api, stop, wait_until
from ..test_cli import movie_r
from .test_tick import settings_for


def two_champions(tmp_path: Path, catalog_path: Path) -> tuple[Settings, str, str]:
    """A home whose champion `second` replaced `first`."""
    settings = settings_for(tmp_path, catalog_path)
    data = load_training_data(catalog_path, None)
    first = train(settings, data, "tfidf").version.version
    second = train(settings, data, "tfidf", {"text__genre_weight": 5}).version.version
    promote(Registry(settings.models_dir), second, "test")
    return settings, first, second


def test_a_version_with_truncated_lists_never_becomes_champion(tmp_path: Path, catalog_path: Path) -> None:
    settings, _, second = two_champions(tmp_path, catalog_path)
    registry = Registry(settings.models_dir)
    third = train(settings, load_training_data(catalog_path, None), "tfidf", {"text__title_weight": 3}).version.version
    os.truncate(registry.versions_dir / third / "lists.npz", 1000)
    env = {"MOVIE_R_CATALOG": str(catalog_path), "MOVIE_R_INTERACTIONS": ""}
    refused = movie_r("promote", third, "--force", home=settings.home, env=env)
    assert refused.returncode == 1 and "lists.npz checksum mismatch" in refused.stderr
    assert registry.champion_version() == second
    api, url = start_api(settings.home, env)  # an API started afterwards: a restart is not an outage
    try:
        assert wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, timeout=20)
    finally:
        stop(api)


@pytest.mark.parametrize("damage", ["manifest", "pipeline"])
def test_a_broken_champion_is_replaced_by_the_last_earlier_one_that_serves(tmp_path: Path, catalog_path: Path, damage: str) -> None:
    settings, first, second = two_champions(tmp_path, catalog_path)
    registry = Registry(settings.models_dir)
    broken = registry.versions_dir / second
    if damage == "manifest":
        (broken / "manifest.json").write_text("{not json")
    else:
        os.truncate(broken / "pipeline.joblib", 100)
    env = {"MOVIE_R_CATALOG": str(catalog_path), "MOVIE_R_INTERACTIONS": ""}
    outputs = {}
    for command in ("status", "models", "metrics"):  # every command keeps working
        result = movie_r(command, home=settings.home, env=env)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (command, result.stderr)
        outputs[command] = result.stdout
    assert second in outputs["status"] and second in outputs["models"]

    decision = run_tick(settings)
    assert registry.champion_version() == first
    assert decision["restored"]["event"] == "restored" and decision["restored"]["previous"] == second
    assert decision["reasons"][0].startswith(f"champion {second} cannot serve")
    assert read_decisions(settings)[-1].restored["version"] == first
    assert json.loads(registry.log_path.read_text().splitlines()[-1])["event"] == "restored"


def test_a_broken_champion_with_nothing_to_restore_is_replaced_by_a_new_one(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path)
    run_tick(settings)
    registry = Registry(settings.models_dir)
    broken = registry.champion_version()
    (registry.versions_dir / broken / "manifest.json").write_text("{not json")
    decision = run_tick(settings)
    assert decision["verdict"] == "first champion" and decision["outcome"]["result"] == "promoted"
    assert registry.champion_version() not in (None, broken)
    registry.champion().load()


def test_a_promotion_judged_against_a_champion_that_has_changed_is_void(tmp_path: Path, catalog_path: Path) -> None:
    settings, first, second = two_champions(tmp_path, catalog_path)
    registry = Registry(settings.models_dir)
    registry.set_champion(first)  # a change between judging and promoting
    with pytest.raises(ChampionChanged, match=f"the champion changed from {second} to {first}"):
        promote(registry, second, "judged against the old champion", expected_champion=second)
    assert registry.champion_version() == first


@pytest.mark.slow
def test_rollback_waits_for_a_running_tick_instead_of_losing_to_it(tmp_path: Path) -> None:
    """Reproduces `movie-r retrain --force &` then `movie-r rollback`: the rollback must be the last word."""
    small = write_catalog_csv(synthetic_catalog(300, seed=4), tmp_path / "small.csv")
    big = write_catalog_csv(synthetic_catalog(3000, seed=3), tmp_path / "big.csv")  # a tick of several seconds
    settings, _, _ = two_champions(tmp_path, small)
    home, registry = settings.home, Registry(settings.models_dir)
    env = {"MOVIE_R_CATALOG": str(small), "MOVIE_R_INTERACTIONS": ""}

    retrain = movie_r_process(["retrain", "--force"], home, {**env, "MOVIE_R_CATALOG": str(big)})
    try:
        assert wait_until(lambda: (home / "models" / ".trainer.lock").exists() and _locked(home), timeout=30)
        busy = movie_r("rollback", home=home, env=env)
        assert busy.returncode == 1 and "holds" in busy.stderr and "--wait" in busy.stderr
        started = time.monotonic()
        waited = movie_r("rollback", "--wait", "300", home=home, env=env)
        assert waited.returncode == 0, waited.stderr
        assert time.monotonic() - started > 1  # it waited for the tick
        assert retrain.wait(timeout=60) == 0  # which finished (its process may exit just after the lock is free)
    finally:
        stop(retrain, signal.SIGTERM)
    events = [json.loads(line) for line in registry.log_path.read_text().splitlines()]
    last_change = [e for e in events if e["event"] in ("promoted", "restored")][-1]
    assert last_change["event"] == "restored" and registry.champion_version() == last_change["version"]


def _locked(home: Path) -> bool:
    """Whether another process holds the trainer lock (a non-blocking try fails)."""
    lock = Registry(home / "models").trainer_lock()
    try:
        lock.acquire(timeout=0)
    except Exception:
        return True
    lock.release()
    return False
