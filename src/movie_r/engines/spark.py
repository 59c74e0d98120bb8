"""The Spark engine: a fit's neighbour ranking as a Spark job, one task per group of blocks.

The driver broadcasts the ranking once (the fitted blend's signals and the term postings
inside it, pickled by Spark's own cloudpickle), and a job of one row per block maps each
block to its rows' neighbours with `mapInArrow`, on whatever executors the master has. Tasks
write Parquet into the work directory; the driver reads the final arrays back from there,
so nothing but those arrays crosses to it. A lost executor's tasks are run again by Spark;
the results are the same, because a block's ranking depends on the block alone.

The executors must run this movie_r with its libraries (the same venv locally; the same
image on a cluster): they import the ranking's functions by name. Progress comes from
Spark's status tracker into the same `stage=neighbours done=i/n` lines and stop points as the
local engine's.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from movie_r.engines.engine import Engine
from movie_r.errors import EngineError
from movie_r.progress import checkpoint, progress
from movie_r.recommenders.neighbours import BlockRanking, RankedBlock, threads_per_block

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

APP_NAME = "movie_r"
CONNECT_SECONDS = 5.0  # a master that does not answer a TCP connect in this long is out of reach
TASKS_PER_CORE = 4  # tasks per executor core: an even finish without a task per block (thousands at a million movies)
POLL_SECONDS = 0.25
SCHEMA = "row int, neighbors array<int>, scores array<float>"

_loaded: dict[str, tuple[BlockRanking, list[np.ndarray], int]] = {}  # per executor process, by job


@contextmanager
def spark_engine(master: str, work_dir: Path, wait_seconds: float) -> Iterator[Engine]:
    """The Spark engine on `master` for the length of the block. What can be checked at once
    is (pyspark, Java, the master's port), so a run fails before its first stage; the
    session starts at the first job and stops at the end, freeing the cluster's cores. A
    cluster that gives the job no executor for `wait_seconds` (at the start, or after losing
    every one) fails it: Spark itself would wait for resources without end."""
    check_prerequisites(master)
    runner = SparkRunner(master, work_dir, wait_seconds)
    try:
        yield Engine(runner)
    finally:
        runner.stop()


def check_prerequisites(master: str) -> None:
    """One `EngineError` line if the spark engine cannot run here with `master`."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise EngineError("the spark engine needs pyspark: pip install 'movie-r[spark]'") from None
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise EngineError("the spark engine needs Java 17 or later: java on PATH, or JAVA_HOME")
    _check_reachable(master)


def start_session(master: str, wait_seconds: float) -> SparkSession:
    """A session on `master`, or one `EngineError` line saying why there can be none."""
    from pyspark.sql import SparkSession

    # the executors' Python, which must import this movie_r: PySpark reads the variable, not
    # the spark.pyspark.python setting, when it starts in a process of its own (no spark-submit)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(APP_NAME)
        .config("spark.log.level", "OFF")  # a failed task is one EngineError line, not the JVM's stack
        .config("spark.ui.showConsoleProgress", "false")  # progress goes through movie_r's own lines
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "10000")
    )
    try:
        with warnings.catch_warnings():  # pyspark warns about pandas 3, of which the engine uses nothing
            warnings.simplefilter("ignore", FutureWarning)
            session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: its own message, one line
        raise EngineError(f"Spark did not start with master {master}: {_last_line(exc)}") from None
    if master.startswith("spark://") and not _wait_for_executors(session, wait_seconds):
        session.stop()
        raise EngineError(f"the Spark master {master} gave this job no executor in {wait_seconds:.0f} s (no worker free?)")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its INFO lines would follow a failure's one line
    log.info("engine=spark master=%s cores=%d", master, session.sparkContext.defaultParallelism)
    return session


class SparkRunner:
    """A `BlockRunner` that ranks the blocks on a session's executors, started at the first call."""

    def __init__(self, master: str, work_dir: Path, wait_seconds: float = 60.0) -> None:
        self.master = master
        self.work_dir = work_dir
        self.wait_seconds = wait_seconds
        self._session: SparkSession | None = None

    @property
    def session(self) -> SparkSession:
        """The session, started by the first job (or by `start`)."""
        if self._session is None:
            self._session = start_session(self.master, self.wait_seconds)
        return self._session

    def start(self) -> None:
        """Start the session now rather than at the first job (a benchmark times them apart)."""
        _ = self.session

    def stop(self) -> None:
        """Stop the session and end its JVM, waiting at most `wait_seconds`: a cluster that
        lost its workers can leave the stop waiting on them (the JVM then ends with this process).

        PySpark keeps the JVM after a session stops, until the Python process exits: in local
        mode with what its executors held (docs/scaling.md), and the agent trains in a process
        that runs for months. The next session starts its own.
        """
        if self._session is None:
            return
        stopping = threading.Thread(target=self._session.stop, name="spark-stop", daemon=True)
        stopping.start()
        stopping.join(self.wait_seconds)
        self._session = None
        if stopping.is_alive():
            log.warning("the Spark session did not stop in %.0f s; it ends with this process", self.wait_seconds)
            return
        _end_jvm(self.wait_seconds)

    def __call__(self, ranked: BlockRanking, blocks: list[np.ndarray], k: int, desc: str) -> Iterator[RankedBlock]:
        from pyspark import cloudpickle

        context = self.session.sparkContext
        payload = context.broadcast(cloudpickle.dumps((ranked, blocks, k)))
        token = uuid.uuid4().hex  # names this job's ranking and its files
        out = self.work_dir / f"{desc}-{token}"
        tasks = min(len(blocks), TASKS_PER_CORE * context.defaultParallelism)
        try:
            with warnings.catch_warnings():  # as at the start: mapInArrow uses none of pandas
                warnings.simplefilter("ignore", FutureWarning)
                frame = self.session.range(len(blocks), numPartitions=tasks).mapInArrow(_ranker(payload, token), SCHEMA)
            self._run(lambda: frame.write.parquet(str(out)), tasks, desc)
            yield from _read(out, k)
        finally:
            payload.unpersist()
            shutil.rmtree(out, ignore_errors=True)

    def _run(self, job: Any, tasks: int, desc: str) -> None:
        """Run `job` (one Spark action) in a thread, reporting its finished tasks as progress;
        a stop request cancels the job."""
        context = self.session.sparkContext
        group = f"movie_r-{desc}-{uuid.uuid4().hex[:8]}"
        failure: list[BaseException] = []

        def run() -> None:
            context.setJobGroup(group, f"movie_r {desc}", interruptOnCancel=True)
            try:
                job()
            except BaseException as exc:  # handed to the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=run, name=f"spark-{desc}", daemon=True)
        worker.start()
        try:
            for _ in progress(_finished_tasks(context, group, worker, lambda: self._check(desc)), total=tasks, desc=desc):
                pass
        finally:
            if worker.is_alive():  # cancelled (a stop request) or the caller failed
                context.cancelJobGroup(group)
            worker.join(self.wait_seconds)  # a cancel on a cluster without executors may never be answered
        if failure:
            log.debug("spark job failed", exc_info=failure[0])
            raise EngineError(f"the Spark job for {desc} failed on {self.master}: {_last_line(failure[0])}")

    def _check(self, desc: str) -> None:
        """What is checked between tasks: a stop request, and a cluster that has lost every executor."""
        checkpoint(desc)
        if self.master.startswith("spark://") and not _wait_for_executors(self.session, self.wait_seconds):
            raise EngineError(
                f"the Spark job for {desc} lost every executor on {self.master} and got none back in {self.wait_seconds:.0f} s"
            )


def _end_jvm(wait_seconds: float) -> None:
    """End the JVM of PySpark's gateway, so that a later session starts a new one."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    SparkContext._gateway = SparkContext._jvm = None  # what the next SparkContext checks to launch one
    process = getattr(gateway, "proc", None)  # the launched JVM (None when PySpark joined a running one)
    gateway.shutdown()
    if process is not None:
        process.stdin.close()  # the gateway server exits when its stdin ends, as when this process exits
        try:
            process.wait(wait_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ranker(payload: Any, token: str) -> Any:
    """The function each task runs over its batches of block numbers (on an executor)."""

    def rank(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        ranked, blocks, k = _unpacked(payload, token)
        for batch in batches:
            for index in batch.column(0).to_pylist():
                rows = blocks[index]
                with threads_per_block(1):  # the executor runs one task per core already
                    indices, values = ranked(rows, k)
                offsets = pa.array(np.arange(0, len(rows) * k + 1, k, dtype=np.int32))
                yield pa.RecordBatch.from_arrays(
                    [
                        pa.array(rows.astype(np.int32)),
                        pa.ListArray.from_arrays(offsets, pa.array(indices.astype(np.int32).ravel())),
                        pa.ListArray.from_arrays(offsets, pa.array(values.astype(np.float32).ravel())),
                    ],
                    names=["row", "neighbors", "scores"],
                )

    return rank


def _unpacked(payload: Any, token: str) -> tuple[BlockRanking, list[np.ndarray], int]:
    """The broadcast ranking, unpickled once per executor process (Spark reuses its Python workers)."""
    from pyspark import cloudpickle

    if token not in _loaded:
        _loaded.clear()  # the last job's blend is done with
        _loaded[token] = cloudpickle.loads(payload.value)
    return _loaded[token]


def _read(out: Path, k: int) -> Iterator[RankedBlock]:
    """The job's Parquet files as (rows, neighbours, scores) blocks."""
    import pyarrow.parquet as pq

    for path in sorted(out.glob("*.parquet")):
        table = pq.read_table(path)
        if not table.num_rows:
            continue
        rows = table.column("row").to_numpy().astype(np.int64)
        indices = table.column("neighbors").combine_chunks().flatten().to_numpy().reshape(-1, k)
        values = table.column("scores").combine_chunks().flatten().to_numpy().reshape(-1, k)
        yield rows, indices, values


def _finished_tasks(context: Any, group: str, worker: threading.Thread, check: Callable[[], None]) -> Iterator[int]:
    """One item per task of `group`'s jobs as it finishes, until the job's thread ends;
    `check` runs at every poll, so a stop request does not wait for a long task to end."""
    tracker = context.statusTracker()
    reported = 0
    while True:
        alive = worker.is_alive()
        done = 0
        for job in tracker.getJobIdsForGroup(group):
            info = tracker.getJobInfo(job)
            for stage in info.stageIds if info else ():
                stage_info = tracker.getStageInfo(stage)
                done += stage_info.numCompletedTasks if stage_info else 0
        while reported < done:
            reported += 1
            yield reported
        if not alive:
            return
        check()
        time.sleep(POLL_SECONDS)


def _check_reachable(master: str) -> None:
    """A standalone master that does not accept a connection: one line naming it, at once,
    where Spark would retry for a minute and then log a stack trace."""
    if not master.startswith("spark://"):
        return
    for address in master.removeprefix("spark://").split(","):  # several masters: high availability
        parts = urlsplit(f"//{address}")
        try:
            with socket.create_connection((parts.hostname or "", parts.port or 7077), timeout=CONNECT_SECONDS):
                return
        except OSError as exc:
            reason = exc.strerror or str(exc)
    raise EngineError(f"cannot reach the Spark master {master}: {reason}")


def _executors(session: SparkSession) -> int:
    """Executors the cluster gives the session now (no Python API tells this)."""
    return session.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # the driver counts as one


def _wait_for_executors(session: SparkSession, seconds: float) -> bool:
    """Whether the session has an executor within `seconds`: a cluster with no free worker
    leaves every job waiting for resources without a word."""
    deadline = time.monotonic() + seconds
    while _executors(session) < 1:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
    return True


def _last_line(exc: BaseException) -> str:
    """The line of a Spark error that says what went wrong: a Python task's own error where
    there is one, not the JVM's stack."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line for line in lines if line.split(":")[0].endswith(("Error", "Exception")) and "py4j" not in line]
    return (errors[-1] if errors else lines[0] if lines else type(exc).__name__)[:300]
