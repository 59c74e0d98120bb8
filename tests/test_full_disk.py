"""A full disk: every write is whole or reported failed, and nothing acknowledged is lost.

Real file systems: a 16 kB tmpfs (mounting needs root; skipped otherwise) and /dev/full.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from movie_r.lifecycle.telemetry import EventWriter, read_events
from movie_r.settings import Settings
from movie_r.storage import journal
from movie_r.storage.records import RequestEvent
from movie_r_api.app import create_app

from .api.test_routes import changed
from .test_cli import movie_r

PAGE = 4096


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 16 kB file system; skipped where this process may not mount one."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,nr_inodes=64", "tmpfs", str(mount)], check=False, capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def fill(disk: Path, leave_in: Path, free: int) -> Path:
    """Fill the disk so that `leave_in` can grow by only `free` more bytes (the rest of its last page)."""
    size = leave_in.stat().st_size if leave_in.exists() else 0
    leave_in.write_bytes((leave_in.read_bytes() if size else b"") + b"\n" * (PAGE - free - size % PAGE))
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as handle:  # unbuffered: nothing left to flush on close
        try:
            while True:
                handle.write(b"\0" * PAGE)
        except OSError:
            pass
    return filler


def test_an_append_that_does_not_fit_fails_and_the_records_around_it_stay_whole(tiny_disk: Path) -> None:
    log = tiny_disk / "registry.jsonl"
    journal.append(log, b'{"event": "first"}\n')
    filler = fill(tiny_disk, log, free=30)
    with pytest.raises(OSError):  # the kernel takes 30 bytes of it, then refuses the rest
        journal.append(log, json.dumps({"event": "second", "padding": "x" * 200}).encode() + b"\n")
    filler.unlink()
    journal.append(log, b'{"event": "third"}\n')
    found = journal.read_records(log)
    assert [entry["event"] for entry in found.records] == ["first", "third"]
    assert found.skipped == 1  # the fragment the refused append left


def test_events_flushed_onto_a_full_disk_are_counted_and_the_next_flush_is_readable(tiny_disk: Path) -> None:
    writer = EventWriter(tiny_disk)
    writer.emit(RequestEvent(ts=1e9, request_id="a"))
    writer.flush()
    filler = fill(tiny_disk, writer.path, free=20)
    writer.emit(RequestEvent(ts=1e9, request_id="b", query="x" * 300))
    writer.flush()
    assert writer.dropped == 1
    filler.unlink()
    writer.emit(RequestEvent(ts=1e9, request_id="c"))
    writer.flush()
    events = tiny_disk.parent / "metrics"
    (events).mkdir()
    (events / "events").symlink_to(tiny_disk)
    assert [e.request_id for e in read_events(events, datetime.fromtimestamp(0, UTC))] == ["a", "c"]


def test_feedback_on_a_full_disk_is_a_503_and_never_acknowledged(trained_home: Settings) -> None:
    settings = changed(trained_home)
    settings.feedback_dir.mkdir(parents=True)
    (settings.feedback_dir / f"{socket.gethostname()}-{os.getpid()}.jsonl").symlink_to("/dev/full")
    with TestClient(create_app(settings)) as client:
        request_id = client.get("/recommend", params={"movie": "heat"}).json()["request_id"]
        response = client.post("/feedback", json={"request_id": request_id, "movie_id": 2, "action": "like"})
    assert response.status_code == 503 and "could not be recorded" in response.json()["detail"]


def test_metrics_on_a_full_disk_fails_in_one_line(tiny_disk: Path) -> None:
    (tiny_disk / "metrics").mkdir()
    fill(tiny_disk, tiny_disk / "metrics" / "placeholder", free=0)
    result = movie_r("metrics", home=tiny_disk)  # a storage root on the full disk
    errors = [line for line in result.stderr.splitlines() if line.startswith("movie-r: error:")]
    assert result.returncode == 1 and len(errors) == 1 and "No space left on device" in errors[0]
    assert "Traceback" not in result.stderr
