"""Every file the services write is rotated or deleted in time: nothing grows forever."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from movie_r.lifecycle.promotion import apply_retention
from movie_r.lifecycle.telemetry import EventWriter
from movie_r.storage.registry import Registry
from movie_r_agents.tick import run_tick
from movie_r_api.cli import PROMETHEUS_PREFIX, remove_stale_prometheus_dirs

from .agents.test_tick import settings_for

DAY = 86400


def age(path: Path, days: float) -> Path:
    os.utime(path, (time.time() - days * DAY,) * 2)
    return path


def test_a_starting_writer_deletes_old_event_files_of_finished_processes(tmp_path: Path) -> None:
    old_own = tmp_path / "gone-host-123.jsonl"  # a finished process's own file, never rotated
    old_rotated = tmp_path / "gone-host-123.1700000000.jsonl"
    for path in (old_own, old_rotated):
        path.write_text('{"ts": 1}\n')
        age(path, 20)
    recent = tmp_path / "live-host-9.jsonl"
    recent.write_text('{"ts": 1}\n')
    writer = EventWriter(tmp_path, retention_days=14)
    writer.start()
    writer.close()
    assert not old_own.exists() and not old_rotated.exists() and recent.exists()


def test_stale_prometheus_directories_of_killed_servers_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    stale = tmp_path / f"{PROMETHEUS_PREFIX}{dead.stdout.strip()}-abc"
    live = tmp_path / f"{PROMETHEUS_PREFIX}{os.getpid()}-def"
    unnamed = tmp_path / f"{PROMETHEUS_PREFIX}xyz123"  # named before directories carried their pid
    for path in (stale, live, unnamed):
        path.mkdir()
        (path / "counter_1.db").write_bytes(b"\0" * 64)
    removed = remove_stale_prometheus_dirs(tmp_path)
    assert sorted(removed) == sorted([stale, unnamed]) and live.exists()


def test_removed_versions_take_their_reports_with_them(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path)
    run_tick(settings)
    for _ in range(3):
        run_tick(settings, force=True, params={"text__genre_weight": 4})
    registry = Registry(settings.models_dir)
    reports = sorted(p.stem for p in settings.reports_dir.glob("*.html"))
    removed = apply_retention(registry, 2, settings.reports_dir)
    assert removed and all(not (settings.reports_dir / f"{v}.html").exists() for v in removed)
    assert {p.stem for p in settings.reports_dir.glob("*.html")} == set(reports) - set(removed)
