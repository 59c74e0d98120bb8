"""An experiment's trace: bounded however often the agent ticks, readable from its tail alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from movie_r.storage import experiment_trace
from movie_r.storage.experiment_trace import ExperimentPoint, append_point, latest_point, read_points
from movie_r.storage.files import utc_now
from movie_r.storage.layout import MetricsLayout
from movie_r.storage.records import OnlineMode


def point(experiment: str, impressions: int) -> ExperimentPoint:
    return ExperimentPoint(
        time=utc_now(), experiment=experiment, mode=OnlineMode.INTERLEAVE, impressions=impressions, clicked_impressions=0,
        wins=0, losses=0, ties=0, llr_better=0.0, llr_worse=0.0, upper=3.7, lower=-1.6, standing="continue",
    )  # fmt: skip


def test_a_long_trace_is_thinned_and_keeps_its_first_and_last_point(tmp_path: Path) -> None:
    metrics = MetricsLayout(tmp_path)
    for i in range(3 * experiment_trace.MAX_POINTS):
        path = append_point(metrics, point("exp-a", i))
    kept = [p.impressions for p in read_points(path)]
    assert len(kept) <= experiment_trace.MAX_POINTS
    assert kept[0] == 0 and kept[-1] == 3 * experiment_trace.MAX_POINTS - 1 and kept == sorted(kept)


def test_the_latest_point_survives_a_torn_tail(tmp_path: Path) -> None:
    path = append_point(MetricsLayout(tmp_path), point("exp-a", 7))
    with open(path, "ab") as handle:
        handle.write(b'{"time": "2024-')  # a writer killed mid-line
    assert latest_point(path).impressions == 7
    assert latest_point(tmp_path / "none.jsonl") is None


def test_only_the_newest_traces_are_kept(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(experiment_trace, "KEPT_TRACES", 2)
    metrics = MetricsLayout(tmp_path)
    for name in ("exp-a", "exp-b", "exp-c"):
        append_point(metrics, point(name, 1))
    assert len(list(metrics.experiments.glob("*.jsonl"))) == 2 and metrics.experiment_trace("exp-c").exists()


def test_an_id_that_is_no_plain_name_names_no_trace(tmp_path: Path) -> None:
    for bad in ("../models/champion", ".hidden", "a/b", ""):
        with pytest.raises(ValueError):
            MetricsLayout(tmp_path).experiment_trace(bad)


def test_a_link_planted_in_metrics_carries_no_write_of_the_agent_elsewhere(tmp_path: Path) -> None:
    metrics = MetricsLayout(tmp_path / "metrics")
    elsewhere = tmp_path / "models" / "registry.jsonl"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text("{}\n")
    metrics.experiments.mkdir(parents=True)
    metrics.experiment_trace("exp-a").symlink_to(elsewhere)
    with pytest.raises(OSError):
        append_point(metrics, point("exp-a", 1))
    assert elsewhere.read_text() == "{}\n"
    (tmp_path / "metrics" / "experiments").rename(tmp_path / "aside")
    metrics.experiments.symlink_to(elsewhere.parent)
    with pytest.raises(OSError):
        append_point(metrics, point("exp-b", 1))
    assert sorted(p.name for p in elsewhere.parent.iterdir()) == ["registry.jsonl"]
