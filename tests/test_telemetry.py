"""Runtime events and feedback as the agent reads them."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from movie_r.lifecycle.telemetry import EventWriter, feedback_positives, feedback_stats, read_feedback, summarise, write_summary
from movie_r.storage.records import FeedbackStats, RequestEvent
from movie_r.storage.registry import Registry


def emit(metrics: Path, **event) -> None:
    writer = EventWriter(metrics / "events")
    writer.emit(RequestEvent(ts=time.time(), **event))
    writer.flush()


def feedback(metrics: Path, **event) -> None:
    (metrics / "feedback").mkdir(parents=True, exist_ok=True)
    with open(metrics / "feedback" / "host-1.jsonl", "a") as handle:
        handle.write(json.dumps({"time": "2026-11-26T10:00:00+00:00", **event}) + "\n")


def test_positive_feedback_becomes_a_co_like_of_the_matched_and_the_liked_movie(tmp_path: Path) -> None:
    emit(tmp_path, request_id="r1", match_id=1, method="exact")
    emit(tmp_path, request_id="r2", match_id=3, method="exact")
    feedback(tmp_path, request_id="r1", movie_id=2, action="like")
    feedback(tmp_path, request_id="r2", movie_id=4, action="dislike")
    pairs = feedback_positives(tmp_path)
    assert pairs[["movie_id", "rating"]].values.tolist() == [[1, 5.0], [2, 5.0]]
    assert pairs["user_id"].nunique() == 1
    stats = feedback_stats(read_feedback(tmp_path, since=datetime.fromtimestamp(0, UTC)))
    assert stats == FeedbackStats(total=2, by_action={"like": 1, "dislike": 1}, negative_share=0.5)


def test_summary_counts_cold_starts_and_unknown_queries(tmp_path: Path) -> None:
    for query in ["dune 3", "dune 3", "arrival 2"]:
        emit(tmp_path / "metrics", request_id=query, method="text", cold_start=True, query=query, latency_ms=2.0, model_version="v1")
    emit(tmp_path / "metrics", request_id="x", method="exact", cold_start=False, mean_similarity=0.4, latency_ms=1.0, model_version="v1")
    summary = write_summary(tmp_path / "metrics", Registry(tmp_path / "models"), window_hours=1)
    assert (summary.requests, summary.cold_starts) == (4, 3)
    assert summary.cold_start_rate == 0.75
    assert summary.top_unknown_queries[0].model_dump() == {"query": "dune 3", "count": 2}
    assert summary.mean_similarity == 0.4
    assert json.loads((tmp_path / "metrics" / "summary.json").read_text())["requests"] == 4
    other = summarise([], Registry(tmp_path / "models"), 1, only_version="v2")
    assert other.requests == 0


def test_events_rotate_by_size_and_old_rotated_files_expire(tmp_path: Path) -> None:
    directory = tmp_path / "events"
    writer = EventWriter(directory, rotate_bytes=200, retention_days=1)
    expired = directory / "old-host-1.1000.jsonl"
    directory.mkdir()
    expired.write_text("{}\n")
    os.utime(expired, (time.time() - 3 * 86400,) * 2)
    for i in range(20):
        writer.emit(RequestEvent(ts=time.time(), request_id=str(i), query="x" * 40))
        writer.flush()
    rotated = [p for p in directory.glob("*.*.jsonl")]
    assert rotated and not expired.exists()
    assert writer.path.exists() and writer.written == 20 and writer.dropped == 0


def test_an_event_json_cannot_hold_is_counted_as_dropped_not_raised(tmp_path: Path) -> None:
    writer = EventWriter(tmp_path / "events")
    writer.emit(RequestEvent(ts=time.time(), extra=object()))  # a newer writer's field of a type JSON lacks
    writer.emit(RequestEvent(ts=time.time(), time=datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC), k=np.int64(10)))
    writer.flush()
    assert writer.dropped == 1 and writer.written == 1
    (line,) = writer.path.read_text().splitlines()
    assert datetime.fromisoformat(json.loads(line)["time"]) == datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC)
    assert json.loads(line)["k"] == 10


def test_failed_resolutions_are_counted_apart_from_titles_the_catalogue_lacks(tmp_path: Path) -> None:
    from movie_r.answering.titles import TitleIndex

    titles = TitleIndex(["Star Wars: Episode IV - A New Hope", "Toy Story"], np.array([10.0, 5.0]))
    for query in ["star wars episode iv a new hop", "star wars episode iv a new hop", "dune 3"]:  # the first misses lookup
        emit(tmp_path / "metrics", request_id=query, method="text", cold_start=True, query=query, model_version="v1")
    summary = write_summary(tmp_path / "metrics", Registry(tmp_path / "models"), window_hours=1, titles=titles)
    assert [(q.query, q.count) for q in summary.top_failed_resolutions] == [("star wars episode iv a new hop", 2)]
    assert [q.query for q in summary.top_unknown_queries] == ["dune 3"]
    without = write_summary(tmp_path / "metrics", Registry(tmp_path / "models"), window_hours=1)
    assert len(without.top_unknown_queries) == 2 and without.top_failed_resolutions == []


def test_typos_lookup_missed_count_as_failed_resolutions_not_as_missing_titles(tmp_path: Path) -> None:
    from movie_r.answering.titles import TitleIndex

    titles = TitleIndex(["Matrix, The", "Rock, The", "Bonfire of the Vanities", "Toy Story"], np.array([9.0, 5.0, 3.0, 8.0]))
    asked = ["teh matrix", "therock", "bonfire o fthe vanities", "space llamas", "zzzz unknown", "toy soldiers of mars"]
    for query in asked:
        emit(tmp_path / "metrics", request_id=query, method="text", cold_start=True, query=query, model_version="v1")
    summary = write_summary(tmp_path / "metrics", Registry(tmp_path / "models"), window_hours=1, titles=titles)
    assert {q.query for q in summary.top_failed_resolutions} == {"teh matrix", "therock", "bonfire o fthe vanities"}
    assert {q.query for q in summary.top_unknown_queries} == {"space llamas", "zzzz unknown", "toy soldiers of mars"}


def test_movie_r_metrics_lists_a_misspelt_title_as_a_missed_resolution(tmp_path: Path, trained_home) -> None:
    import subprocess
    import sys

    for query in ["teh dark knight", "thehamlet", "space llamas"]:
        emit(trained_home.metrics_dir, request_id=query, method="text", cold_start=True, query=query, model_version="v1")
    env = {**os.environ, "MOVIE_R_CATALOG": str(trained_home.catalog), "MOVIE_R_INTERACTIONS": ""}
    shown = subprocess.run(
        [sys.executable, "-m", "movie_r.cli.main", "metrics", "--home", str(trained_home.home)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    missed = [line for line in shown.stdout.splitlines() if "resolution missed" in line]
    lacking = [line for line in shown.stdout.splitlines() if "not in the catalogue" in line]
    assert len(missed) == 2 and any("teh dark knight" in line for line in missed) and any("thehamlet" in line for line in missed)
    assert len(lacking) == 1 and "space llamas" in lacking[0]
