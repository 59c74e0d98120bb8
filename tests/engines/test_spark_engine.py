"""The Spark engine on a real Spark (local mode, `local[2]`): the same model as the local
engine for every kind, progress and stop points through Spark's status tracker, and one
line for what cannot run. Marked `spark`: `make test-spark` and CI run them (pyspark and
Java 17 are the engine's own dependencies, not the default install's)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

# no importorskip: `make test` deselects these without importing pyspark (engines.spark imports
# it only when a session starts), and where they are selected a missing pyspark must fail them
from movie_r.data.loading import load_catalog, load_interactions
from movie_r.engines.spark import SparkRunner, check_prerequisites
from movie_r.errors import Cancelled, EngineError
from movie_r.progress import cancellable
from movie_r.recommenders.kinds import KINDS
from movie_r.recommenders.pipeline import build_pipeline, fit_pipeline
from movie_r.settings import default_catalog

from ..test_cli import movie_r

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SMALL_BLOCKS_MB = 32  # several blocks per task on the default data, so blocks meet in tasks and files


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkRunner]:
    runner = SparkRunner("local[2]", tmp_path_factory.mktemp("spark-work"))
    yield runner
    runner.stop()


@pytest.fixture(scope="module")
def default_data() -> tuple:
    catalog = load_catalog(default_catalog())
    ratings = load_interactions(default_catalog().with_name("ratings.csv.gz"), catalog).ratings
    return catalog.movies, ratings


def _neighbours(kind: str, movies, ratings, runner=None, **params) -> tuple[np.ndarray, np.ndarray]:
    pipeline = build_pipeline(kind, params, block_memory_mb=SMALL_BLOCKS_MB)
    blend = fit_pipeline(pipeline, movies, ratings, runner=runner)[-1]
    return blend.neighbors_, blend.similarities_


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_ranks_the_same_neighbours_on_spark_as_locally(kind: str, spark: SparkRunner, default_data: tuple) -> None:
    movies, ratings = default_data
    local_indices, local_scores = _neighbours(kind, movies, ratings)
    spark_indices, spark_scores = _neighbours(kind, movies, ratings, spark)
    assert local_scores[:, 0].max() > 0  # a model with neighbours, not two empty arrays
    assert np.array_equal(spark_indices, local_indices)  # the same movies in the same order, ties included
    assert np.abs(spark_scores - local_scores).max() <= 1e-6


def test_the_dense_path_and_a_20000_movie_catalogue_rank_the_same_on_spark(spark: SparkRunner, default_data: tuple) -> None:
    from tests.synthetic import synthetic_catalog

    movies, ratings = default_data
    dense = {"recommender__candidates": 0}
    assert np.array_equal(_neighbours("hybrid", movies, ratings, spark, **dense)[0], _neighbours("hybrid", movies, ratings, **dense)[0])
    large = synthetic_catalog(20_000, seed=3)
    local_indices, local_scores = _neighbours("tfidf", large, None)
    spark_indices, spark_scores = _neighbours("tfidf", large, None, spark)
    assert np.array_equal(spark_indices, local_indices)
    assert np.abs(spark_scores - local_scores).max() <= 1e-6


def test_movie_r_train_on_spark_saves_the_model_the_local_engine_saves(tmp_path: Path) -> None:
    import joblib

    local, on_spark = tmp_path / "local", tmp_path / "spark"
    assert movie_r("train", "--model", "hybrid", home=local).returncode == 0
    trained = movie_r("train", "--model", "hybrid", "--engine", "spark", "--spark-master", "local[2]", home=on_spark)
    assert trained.returncode == 0, trained.stderr
    assert "Traceback" not in trained.stderr
    assert "engine=spark master=local[2]" in trained.stderr

    def blend(home: Path):  # the test's own files, written a moment ago
        (path,) = (home / "models" / "versions").glob("*/pipeline.joblib")
        return joblib.load(path)[-1]

    assert np.array_equal(blend(on_spark).neighbors_, blend(local).neighbors_)
    assert np.array_equal(blend(on_spark).similarities_, blend(local).similarities_)
    assert not any((on_spark / "spark").iterdir())  # the stage's Parquet files are gone


def test_a_master_out_of_reach_is_one_line_naming_it_and_nothing_is_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert movie_r("train", "--model", "tfidf", home=home).returncode == 0
    champion = (home / "models" / "champion").readlink()
    failed = movie_r("train", "--engine", "spark", "--spark-master", "spark://127.0.0.1:9", home=home)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1] == (
        "movie-r: error: cannot reach the Spark master spark://127.0.0.1:9: Connection refused"
    )
    assert (home / "models" / "champion").readlink() == champion
    assert len(list((home / "models" / "versions").iterdir())) == 1
    with pytest.raises(EngineError, match="spark://nowhere.invalid:7077"):
        check_prerequisites("spark://nowhere.invalid:7077")


def _slow_ranking(seconds: float):
    def ranked(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        time.sleep(seconds)
        return np.tile(rows[:, None].astype(np.int32), (1, k)), np.ones((len(rows), k), dtype=np.float32)

    return ranked


def test_progress_comes_from_spark_status_tracker(spark: SparkRunner, caplog: pytest.LogCaptureFixture, monkeypatch) -> None:
    monkeypatch.setattr("movie_r.progress.LOG_EVERY", 0.0)
    blocks = [np.arange(i * 3, i * 3 + 3) for i in range(8)]
    with caplog.at_level(logging.INFO, logger="movie_r.progress"):
        results = list(spark(_slow_ranking(0.3), blocks, 2, "neighbours"))
    ranked = {int(row): found for rows, indices, _ in results for row, found in zip(rows, indices, strict=True)}
    assert sorted(ranked) == list(range(24)) and all((ranked[row] == row).all() for row in ranked)
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("stage=neighbours")]
    assert lines and lines[-1].startswith("stage=neighbours done=8/8")


def test_a_stop_request_cancels_the_spark_job(spark: SparkRunner) -> None:
    blocks = [np.arange(i, i + 1) for i in range(40)]
    stop = threading.Event()
    threading.Timer(3.0, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled), cancellable(stop):
        list(spark(_slow_ranking(1.0), blocks, 1, "neighbours"))  # 40 s of work on two cores, uncancelled
    assert time.monotonic() - started < 15
    assert len(list(spark(_slow_ranking(0.0), blocks[:2], 1, "neighbours"))) > 0  # the session still works


def test_a_failing_task_is_one_line_naming_its_error(spark: SparkRunner) -> None:
    def broken(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        raise ValueError("block 7 has no rows")

    with pytest.raises(EngineError) as raised:
        list(spark(broken, [np.arange(3)], 1, "neighbours"))
    message = str(raised.value)
    assert message.startswith("the Spark job for neighbours failed on local[2]: ")
    assert "ValueError: block 7 has no rows" in message and "\n" not in message


def test_a_stopped_runner_ends_its_jvm_and_the_next_session_starts_its_own(tmp_path: Path) -> None:
    """PySpark keeps its JVM until the Python process exits; the agent's process runs for months,
    so each training's JVM (in local mode, with what its executors held) must end with its session. In a process of its own: sessions are global to a process, and the module's
    runner must keep its own."""
    script = (
        "import sys, psutil\n"
        "from pathlib import Path\n"
        "from pyspark import SparkContext\n"
        "from movie_r.engines.spark import SparkRunner\n"
        "for n in range(2):\n"
        "    runner = SparkRunner('local[1]', Path(sys.argv[1]))\n"
        "    assert runner.session.range(10).count() == 10\n"
        "    jvm = psutil.Process(SparkContext._gateway.proc.pid)\n"
        "    runner.stop()\n"
        "    print(n, jvm.is_running() and jvm.status() != psutil.STATUS_ZOMBIE)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["0", "False", "1", "False"], done.stdout
