"""Training and serving at real size: wall time and peak memory per stage.

    python benchmarks/scale.py                                       # MovieLens-25M shape
    python benchmarks/scale.py --movies 60000 --users 160000 --ratings 4040000
    python benchmarks/scale.py --auto                                # also `--model auto`'s tuning
    python benchmarks/scale.py --movies 1000000 --ratings 0          # content only
    python benchmarks/scale.py --movies 20000 --ratings 0 --engine spark --spark-master local[2]

Generates a deterministic MovieLens-shaped dataset (Zipf-like movie popularity, people who
rate in sessions within a few favourite genres, ~40-word overviews), then runs the stages of
`movie-r train --model hybrid` one by one: ingest and validation, the time-aware split,
fitting (features, signals, neighbours), evaluation, the precomputed lists, saving, and
`movie-r serve --workers 2` loading the result. Each stage prints its wall time and the
process's peak RSS during it (sampled every 50 ms), so a later change shows where it moved
the cost. A worker's RSS counts the artifact pages it maps and the libraries it shares with
the fork server; what it holds alone (private) is what one more worker adds.

With `--engine spark` the neighbour stage runs on Spark (`--spark-master`, default
local[*]), then again on the local engine in the same run: the two walls' ratio is the
engine's overhead at this size and these cores, and the arrays must be equal. The Spark
stage's peak RSS is this process's (the driver's); the JVM and its Python workers, processes
of their own, are summed in a column of their own (the executors' side in local mode).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psutil

from movie_r.answering.inference import Recommender
from movie_r.answering.ranked_lists import BODY, LISTS, build
from movie_r.engines.engine import engine_for
from movie_r.lifecycle.evaluation import evaluate
from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.tuning import tune
from movie_r.recommenders.kinds import AUTO_KINDS
from movie_r.recommenders.pipeline import build_pipeline
from movie_r.settings import Settings
from movie_r.storage.registry import Registry, new_version_id

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the synthetic data generator lives with the tests
from tests.synthetic import GENRES, synthetic_catalog, write_catalog_csv  # noqa: E402

SESSION = 20  # ratings a session holds at most


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def private_mb(pid: int) -> float:
    """Memory only this process holds (USS): its RSS less the pages it shares with others."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(fields[name].split()[0]) for name in ("Private_Clean", "Private_Dirty")) / 1024


class Peak:
    """The highest RSS of this process while a stage runs, sampled by a thread, and the highest
    summed RSS of its descendants (Spark's JVM and its Python workers, tuning's workers)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self.others = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        this = psutil.Process()
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb())
            self.others = max(self.others, _descendants_mb(this))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.peak, self.others = rss_mb(), 0.0
        started = time.perf_counter()
        yield
        self.peak = max(self.peak, rss_mb())
        others = f"{self.others:>10.0f} MB in its other processes" if self.others else ""
        print(f"{name:<28}{time.perf_counter() - started:>10.1f} s{self.peak:>10.0f} MB peak RSS{others}", flush=True)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


def _descendants_mb(process: psutil.Process) -> float:
    total = 0
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:  # ended between the listing and the reading
            continue
    return total / (1 << 20)


def ratings(movies: pd.DataFrame, users: int, total: int, seed: int) -> pd.DataFrame:
    """`total` ratings by `users` people: activity log-normal, each person's picks drawn by
    popularity within two favourite genres, in sessions of consecutive timestamps."""
    rng = np.random.default_rng(seed)
    activity = rng.lognormal(3.0, 1.0, size=users)
    per_user = np.maximum(1, np.round(activity / activity.sum() * total)).astype(np.int64)
    per_user[np.argmax(per_user)] += total - per_user.sum()
    popularity = movies["popularity"].to_numpy() + 1e-3
    genre_rows = {g: np.flatnonzero(movies["genres"].map(lambda gs, g=g: g in gs).to_numpy()) for g in GENRES}
    genre_rows = {g: rows for g, rows in genre_rows.items() if len(rows)}
    names = list(genre_rows)
    cumulative = {g: np.cumsum(popularity[rows]) / popularity[rows].sum() for g, rows in genre_rows.items()}
    user_ids = np.repeat(np.arange(users), per_user)
    favourite = rng.integers(0, len(names), size=(users, 2))
    picks = np.empty(total, dtype=np.int64)
    genre_of = favourite[user_ids, rng.integers(0, 2, size=total)]
    for index, name in enumerate(names):  # vectorised per genre: inverse-CDF sampling by popularity
        where = np.flatnonzero(genre_of == index)
        picks[where] = genre_rows[name][np.searchsorted(cumulative[name], rng.random(len(where)))]
    starts = np.repeat(rng.uniform(8e8, 1.5e9, size=users), per_user)
    step = np.arange(total) - np.repeat(np.cumsum(per_user) - per_user, per_user)
    timestamps = starts + (step // SESSION) * 86_400 * rng.uniform(1, 30, size=total) + (step % SESSION) * 60.0
    stars = np.clip(np.round(rng.normal(3.6, 1.0, size=total) * 2) / 2, 0.5, 5.0)
    return pd.DataFrame(
        {"user_id": user_ids, "movie_id": movies["id"].to_numpy()[picks], "rating": stars, "timestamp": timestamps.round()}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=62_000)
    parser.add_argument("--users", type=int, default=162_000)
    parser.add_argument("--ratings", type=int, default=25_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--auto", action="store_true", help="also time `--model auto`'s tuning (every kind's grid)")
    parser.add_argument("--engine", choices=["local", "spark"], default="local", help="the neighbour stage's engine")
    parser.add_argument("--spark-master", default="local[*]", help="with --engine spark (default local[*])")
    args = parser.parse_args(argv)
    logging.basicConfig(format="    %(message)s")  # progress every ~10 s within a stage, as `movie-r train` logs it
    logging.getLogger("movie_r.progress").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory() as scratch, Peak() as peak:
        root = Path(scratch)
        print(f"{args.movies} movies, {args.users} users, {args.ratings} ratings; {os.cpu_count()} cores")
        print(f"{'stage':<28}{'wall':>12}{'peak':>18}")
        with peak.stage("generate"):
            movies = synthetic_catalog(args.movies, seed=args.seed)
            rated = ratings(movies, args.users, args.ratings, args.seed) if args.ratings else pd.DataFrame()
        with peak.stage("write CSVs"):
            catalog = write_catalog_csv(movies, root / "catalog.csv")
            rated.to_csv(root / "ratings.csv", index=False)
            kind = "hybrid" if len(rated) else "tfidf"
            del movies, rated
        with peak.stage("ingest, validate, split"):
            data = load_training_data(catalog, root / "ratings.csv" if kind == "hybrid" else None)
        settings = Settings(home=root / "home")
        pipeline = build_pipeline(kind, {"recommender__candidates": settings.candidates})
        with peak.stage("features (TF-IDF)"):
            features = pipeline[:-1].fit_transform(data.catalog.movies)
        with peak.stage("signals"):
            pipeline[-1].fit_signals(features, data.catalog.movies, data.train_ratings)
        if args.engine == "spark":
            _compare_engines(peak, pipeline[-1], settings.model_copy(update={"engine": "spark", "spark_master": args.spark_master}))
        else:
            with peak.stage(f"neighbours ({kind})"):
                pipeline[-1].fit_neighbours()
        recommender = Recommender(pipeline, new_version_id())
        with peak.stage("evaluate"):
            report = evaluate(recommender, data.queries)
        with peak.stage("precomputed lists"):
            lists = build(recommender)
        with peak.stage("save"):
            registry = Registry(settings.models_dir)
            saved = registry.save(pipeline, {"version": recommender.version, "kind": kind}, {LISTS: lists.save, BODY: lists.save_body})
            registry.set_champion(saved.version)
        print(f"{report.score_name} {report.score:.4f} over {report.n_queries} queries; artifact "
              f"{sum(f.stat().st_size for f in saved.path.iterdir()) / 1e6:.0f} MB")  # fmt: skip
        _serve(root / "home")
        if args.auto and kind == "hybrid":
            with peak.stage("auto: tune every kind"):
                chosen = tune(settings, data, AUTO_KINDS)
            print(f"auto chose {chosen.kind}: {chosen.selection and chosen.selection.reason}")
    return 0


def _compare_engines(peak: Peak, blend: Any, settings: Settings) -> None:
    """The neighbour stage on Spark, then locally in the same run: the overhead, and equality."""
    with engine_for(settings) as engine:
        with peak.stage("spark: session"):
            engine.runner.start()  # type: ignore[attr-defined]  # so that the stage below is the job alone
        started = time.perf_counter()
        with peak.stage(f"neighbours (spark {settings.spark_master})"):
            blend.fit_neighbours(runner=engine.runner)
        spark_seconds = time.perf_counter() - started
    on_spark = blend.neighbors_, blend.similarities_
    started = time.perf_counter()
    with peak.stage("neighbours (local engine)"):
        blend.fit_neighbours()
    local_seconds = time.perf_counter() - started
    equal = np.array_equal(on_spark[0], blend.neighbors_) and float(np.abs(on_spark[1] - blend.similarities_).max()) <= 1e-6
    print(f"spark / local neighbour wall: {spark_seconds / local_seconds:.2f}x; arrays equal: {equal}")


def _serve(home: Path) -> None:
    """`movie-r serve --workers 2` on the saved version: seconds until it is ready and has
    answered, then for each worker its RSS and what it holds alone (what one more worker
    adds), and the same for the fork server the workers are forked from."""
    env = {**os.environ, "MOVIE_R_HOME": str(home), "MOVIE_R_INTERACTIONS": ""}
    port = 8000 + os.getpid() % 1000
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "movie_r.cli.main", "serve", "--workers", "2", "--port", str(port), "-q"], env=env)
    try:
        while time.perf_counter() - started < 600:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        with httpx.Client() as client:  # touch the answer path in both workers, as traffic would
            for _ in range(10):
                for movie in ("toy story", "heat", "alien"):
                    client.get(f"http://127.0.0.1:{port}/recommend", params={"movie": movie, "k": 10}, timeout=60)
        print(f"{'API, 2 workers: ready':<28}{time.perf_counter() - started:>10.1f} s", flush=True)
        for name, pid in _descendants(server.pid):
            print(f"{'  ' + name:<28}{'':>12}{rss_mb(pid):>10.0f} MB RSS{private_mb(pid):>8.0f} MB its own", flush=True)
    finally:
        server.terminate()
        server.wait(30)


def _descendants(pid: int) -> list[tuple[str, int]]:
    """The server's processes below its supervisor, named by role, workers last."""
    found: list[tuple[str, int]] = []
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in map(int, children):
        command = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"resource_tracker" in command:
            continue
        role = "fork server" if b"forkserver" in command else "worker"
        found.append((role, child))
        found.extend(("worker", grandchild) for grandchild in map(int, Path(f"/proc/{child}/task/{child}/children").read_text().split()))
    return sorted(found, key=lambda item: item[0] == "worker")


if __name__ == "__main__":
    sys.exit(main())
