"""What an operator reads: the model list, the registry's words, progress lines, the install."""

from __future__ import annotations

import json
import logging
import time
import tomllib
from pathlib import Path

import pytest

from movie_r import progress as progress_module
from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.promotion import promote, rollback
from movie_r.lifecycle.training import train
from movie_r.settings import Settings
from movie_r.storage.lineage import previous_champion, statuses
from movie_r.storage.registry import Registry

from .conftest import HEADER, MOVIES, REPO, write_csv
from .test_cli import movie_r


def three_versions(tmp_path: Path, catalog_path: Path) -> tuple[Settings, list[str]]:
    """Two versions on the small catalogue and one on a smaller one, the last two promoted in turn."""
    smaller = write_csv(tmp_path / "smaller.csv", HEADER, MOVIES[:8])
    settings = Settings(home=tmp_path / "home", catalog=catalog_path, interactions=None, neighbours=5)
    registry = Registry(settings.models_dir)
    first = train(settings, load_training_data(catalog_path, None), "tfidf").version.version
    second = train(settings, load_training_data(catalog_path, None), "tfidf", {"text__genre_weight": 5}).version.version
    third = train(settings, load_training_data(smaller, None), "tfidf").version.version
    promote(registry, second, "test")
    promote(registry, third, "test")
    return settings, [first, second, third]


def test_models_shows_metric_data_and_what_each_version_is_now(tmp_path: Path, catalog_path: Path) -> None:
    settings, (first, second, third) = three_versions(tmp_path, catalog_path)
    listing = movie_r("models", home=settings.home).stdout
    rows = {
        line.split()[1] if line.startswith("*") else line.split()[0]: line for line in listing.splitlines() if "T" in line[:30]
    }
    assert rows[third].startswith("* ") and " champion " in rows[third]
    assert " previous " in rows[second] and " retired " in rows[first]
    assert all("genre_precision@10" in row for row in rows.values())
    small_data, smaller_data = rows[first].split()[4], rows[third].split()[4]
    assert small_data != smaller_data and rows[second].split()[4] == small_data
    assert f"data {small_data}: {catalog_path} (12 movies), no ratings" in listing
    assert "scores compare only within one metric on one data: 2 such groups" in listing


def test_a_rollback_is_recorded_as_restored_and_the_retired_version_is_not_called_rolled_back(
    tmp_path: Path, catalog_path: Path
) -> None:
    settings, (_, second, third) = three_versions(tmp_path, catalog_path)
    registry = Registry(settings.models_dir)
    event = rollback(registry)
    assert event.event == "restored" and event.version == second and event.previous == third
    assert statuses(registry)[third] == "previous" and statuses(registry)[second] == "champion"
    assert "rolled back" not in movie_r("models", home=settings.home).stdout


def test_registry_files_written_with_rolled_back_still_read(tmp_path: Path, catalog_path: Path) -> None:
    settings, (first, second, third) = three_versions(tmp_path, catalog_path)
    registry = Registry(settings.models_dir)
    registry.set_champion(second)
    with open(registry.log_path, "a") as log:  # as the previous release wrote a rollback
        log.write(
            json.dumps({"time": "2026-11-29T00:00:00+00:00", "event": "rolled_back", "version": second, "previous": third}) + "\n"
        )
    assert previous_champion(registry) == third
    assert statuses(registry) == {first: "retired", second: "champion", third: "previous"}


def test_progress_logs_only_long_steps_and_at_most_every_interval(monkeypatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(progress_module, "LOG_EVERY", 0.1)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    with caplog.at_level(logging.INFO, logger="movie_r.progress"):
        list(progress_module.progress(range(1000), total=1000, desc="quick"))
        assert caplog.records == []
        started = time.monotonic()
        for _ in progress_module.progress(range(20), total=20, desc="slow"):
            time.sleep(0.025)
        elapsed = time.monotonic() - started
    lines = [record.getMessage() for record in caplog.records]
    assert 1 <= len(lines) <= elapsed / 0.1 + 1
    assert all(line.startswith("stage=slow done=") and " eta=" in line and "/20 " in line for line in lines)


def test_a_stop_request_ends_a_step_at_its_next_item() -> None:
    import threading

    from movie_r.errors import Cancelled

    stop, seen = threading.Event(), []
    with progress_module.cancellable(stop), pytest.raises(Cancelled, match="stop requested during counting"):
        for item in progress_module.progress(range(10), total=10, desc="counting"):
            seen.append(item)
            if item == 3:
                stop.set()
    assert seen == [0, 1, 2, 3]


def test_the_package_metadata_uses_an_spdx_licence() -> None:
    """setuptools >= 77 warns three times per install about a licence table."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str)
    assert any(requirement.startswith("setuptools>=77") for requirement in project["build-system"]["requires"])
