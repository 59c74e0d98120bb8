"""The compose file's spark profile on the real engine: a standalone master and two workers,
and the agent image as the Spark driver.

A training on the cluster saves the arrays the local engine saves; a worker SIGKILLed in the
middle of the job costs its tasks, which Spark runs again, and nothing else; a cluster that
loses every worker fails the training in one line, and the champion stays as it was.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path

import httpx
import joblib
import numpy as np
import pytest

from ..processes import wait_until
from .stack import Stack, docker
from .test_stack import new_root

pytestmark = [pytest.mark.containers, pytest.mark.slow]

MASTER = "spark://spark-master:7077"
WAIT_SECONDS = 20  # MOVIE_R_SPARK_WAIT_SECONDS: how long a job without executors waits before it fails
MOVIES = 40_000  # content only: a job of tens of seconds on two one-core workers, long enough to kill one in


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    from tests.synthetic import synthetic_catalog, write_catalog_csv

    root = new_root(tmp_path_factory)
    write_catalog_csv(synthetic_catalog(MOVIES, seed=5), root / "catalog-40k.csv")
    stack = Stack(
        f"movie_r_test_{uuid.uuid4().hex[:8]}",
        root,
        env={"MOVIE_R_AGENT_TARGET": "agent-spark", "MOVIE_R_SPARK_WAIT_SECONDS": str(WAIT_SECONDS)},
    )
    try:
        stack.compose("--profile", "spark", "build", "agent", "spark-master", "spark-worker-1", "spark-worker-2", timeout=1500)
        stack.compose("--profile", "spark", "up", "-d", "spark-master", "spark-worker-1", "spark-worker-2")
        stack.wait_healthy("spark-master", timeout=120)
        assert wait_until(lambda: _alive_workers(stack) >= 2, 120, interval=1), stack.logs("spark-worker-1")[-3000:]
        yield stack
    finally:
        stack.compose("--profile", "spark", "down", "--volumes", "--remove-orphans", "--timeout", "10", check=False, timeout=180)
        stack.down()
        for service in ("spark-master", "spark-worker-1", "spark-worker-2"):
            for name in (f"{stack.name}_{service}", f"{stack.name}-{service}"):
                docker("image", "rm", name, check=False)


def _master_status(stack: Stack) -> dict:
    """The master's own JSON status page, on its project-network address (never published)."""
    address = stack.address(stack.containers("spark-master")[0])
    return httpx.get(f"http://{address}:8080/json/", timeout=5).json()


def _job_running(stack: Stack) -> bool:
    """Whether a neighbour job has begun: Spark makes its output's _temporary directory when
    the job starts, on the storage root the workers share."""
    return any((stack.root / "spark").glob("neighbours-*/_temporary"))


def _alive_workers(stack: Stack) -> int:
    return sum(worker["state"] == "ALIVE" for worker in _master_status(stack)["workers"])


def _train(stack: Stack, home: str, *flags: str) -> list[str]:
    """`movie-r train` in a one-off agent container (as the service user), on home `home`."""
    return [
        *stack.compose_prefix(), "run", "--rm", "--no-deps", "-e", "MOVIE_R_SPARK_WORK_DIR=/var/lib/movie_r/spark",
        "agent", "movie-r", "train", "--home", f"/var/lib/movie_r/{home}", *flags,
    ]  # fmt: skip


def _run(stack: Stack, command: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, env=stack.environment(), timeout=timeout)


def _blend(root: Path):
    """The fitted blend of the one version under `root` (the test's own files)."""
    (path,) = (root / "models" / "versions").glob("*/pipeline.joblib")
    return joblib.load(path)[-1]


def test_1_a_training_on_the_cluster_saves_what_the_local_engine_saves(cluster: Stack) -> None:
    local = _run(cluster, _train(cluster, "local", "--model", "hybrid"))
    assert local.returncode == 0, local.stderr[-3000:]
    started = time.monotonic()
    on_cluster = _run(cluster, _train(cluster, "cluster", "--model", "hybrid", "--engine", "spark", "--spark-master", MASTER))
    assert on_cluster.returncode == 0, on_cluster.stderr[-3000:]
    assert f"engine=spark master={MASTER}" in on_cluster.stderr and "Traceback" not in on_cluster.stderr
    cluster_blend, local_blend = _blend(cluster.root / "cluster"), _blend(cluster.root / "local")
    assert np.array_equal(cluster_blend.neighbors_, local_blend.neighbors_)
    assert np.abs(cluster_blend.similarities_ - local_blend.similarities_).max() <= 1e-6
    assert not [p for p in (cluster.root / "spark").iterdir()], "the job's Parquet files were left behind"
    print(f"\nhybrid on the default data, on the cluster: {time.monotonic() - started:.0f} s, the local engine's arrays")


CATALOG = ["--catalog", "/var/lib/movie_r/catalog-40k.csv", "--no-interactions"]


def _start_cluster_training(stack: Stack) -> subprocess.Popen:
    """A content-only training of the 40,000 movies on the cluster, in the background, once its
    neighbour job has started (its tasks are running a moment later)."""
    training = subprocess.Popen(
        _train(stack, "cluster-40k", *CATALOG, "--engine", "spark", "--spark-master", MASTER),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=stack.environment(),
    )  # fmt: skip
    if not wait_until(lambda: _job_running(stack), 300, interval=0.2):
        training.kill()
        raise AssertionError("the job never started")
    return training


def test_2_a_worker_sigkilled_mid_job_costs_its_tasks_and_nothing_else(cluster: Stack) -> None:
    local = _run(cluster, _train(cluster, "local-40k", *CATALOG))
    assert local.returncode == 0, local.stderr[-3000:]
    training = _start_cluster_training(cluster)
    try:
        time.sleep(3)  # its tasks are running
        assert _job_running(cluster), "the job was committed before a worker could be killed"
        worker = cluster.containers("spark-worker-1")[0]
        cluster.kill_main_process(worker)  # a crash: the worker JVM and its executor die at once
        out, err = training.communicate(timeout=900)
    finally:
        if training.poll() is None:
            training.kill()
    assert training.returncode == 0, err[-3000:]
    cluster_blend, local_blend = _blend(cluster.root / "cluster-40k"), _blend(cluster.root / "local-40k")
    assert np.array_equal(cluster_blend.neighbors_, local_blend.neighbors_)
    assert np.abs(cluster_blend.similarities_ - local_blend.similarities_).max() <= 1e-6
    assert wait_until(lambda: _alive_workers(cluster) >= 2, 120, interval=1), "the killed worker did not come back"
    print(f"\n{MOVIES} movies, a worker SIGKILLed mid-job: completed, the local engine's arrays")


def test_3_a_cluster_that_loses_every_worker_fails_in_one_line_and_the_champion_stays(cluster: Stack) -> None:
    home = cluster.root / "cluster-40k"
    champion = (home / "models" / "champion").readlink()
    versions = set((home / "models" / "versions").iterdir())
    training = _start_cluster_training(cluster)
    try:
        time.sleep(2)
        for service in ("spark-worker-1", "spark-worker-2"):
            docker("stop", "-t", "0", cluster.containers(service)[0])  # an operator's stop: not restarted
        _, err = training.communicate(timeout=WAIT_SECONDS + 300)
    finally:
        if training.poll() is None:
            training.kill()
    assert training.returncode == 1, err[-3000:]
    errors = [line for line in err.splitlines() if line.startswith("movie-r: error:")]  # compose adds its own lines
    assert len(errors) == 1 and "Traceback" not in err, err[-3000:]
    last = errors[0]
    assert last.startswith(f"movie-r: error: the Spark job for neighbours lost every executor on {MASTER}"), err[-3000:]
    assert (home / "models" / "champion").readlink() == champion
    assert set((home / "models" / "versions").iterdir()) == versions
    print(f"\nevery worker stopped mid-job: {last}")
