"""Training and serving at real size: wall time and peak memory per stage.

    python benchmarks/scale.py                                       # MovieLens-25M shape (hours today)
    python benchmarks/scale.py --movies 20000 --users 20000 --ratings 1000000

Generates a deterministic MovieLens-shaped dataset (Zipf-like movie popularity, people who
rate in sessions within a few favourite genres, ~40-word overviews), then runs the stages of
`movie-r train --model hybrid` one by one: ingest and validation, the time-aware split,
fitting (features, signals, neighbours), evaluation, the precomputed lists, saving, and an
API worker loading the result. Each stage prints its wall time and the process's peak RSS
during it (sampled every 50 ms), so a later change shows where it moved the cost.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from movie_r.evaluation import evaluate
from movie_r.inference import Recommender
from movie_r.models.pipeline import build_pipeline, fit_pipeline
from movie_r.ranked_lists import build
from movie_r.registry import Registry, new_version_id
from movie_r.synthetic import GENRES, synthetic_catalog, write_catalog_csv
from movie_r.training import load_training_data

SESSION = 20  # ratings a session holds at most


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Peak:
    """The highest RSS of this process while a stage runs, sampled by a thread."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb())

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.peak = rss_mb()
        started = time.perf_counter()
        yield
        self.peak = max(self.peak, rss_mb())
        print(f"{name:<28}{time.perf_counter() - started:>10.1f} s{self.peak:>10.0f} MB peak RSS", flush=True)

    def __enter__(self) -> Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


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
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch, Peak() as peak:
        root = Path(scratch)
        print(f"{args.movies} movies, {args.users} users, {args.ratings} ratings; {os.cpu_count()} cores")
        print(f"{'stage':<28}{'wall':>12}{'peak':>18}")
        with peak.stage("generate"):
            movies = synthetic_catalog(args.movies, seed=args.seed)
            rated = ratings(movies, args.users, args.ratings, args.seed)
        with peak.stage("write CSVs"):
            catalog = write_catalog_csv(movies, root / "catalog.csv")
            rated.to_csv(root / "ratings.csv", index=False)
            del movies, rated
        with peak.stage("ingest, validate, split"):
            data = load_training_data(catalog, root / "ratings.csv")
        with peak.stage("fit hybrid"):
            pipeline = fit_pipeline(build_pipeline("hybrid"), data.catalog.movies, data.train_ratings)
        recommender = Recommender(pipeline, new_version_id())
        with peak.stage("evaluate"):
            report = evaluate(recommender, data.queries)
        with peak.stage("precomputed lists"):
            lists = build(recommender)
        with peak.stage("save"):
            registry = Registry(root / "home" / "models")
            saved = registry.save(pipeline, {"version": recommender.version, "kind": "hybrid"}, {"lists.npz": lists.save})
            registry.set_champion(saved.version)
        print(f"ndcg@10 {report.score:.4f} over {report.n_queries} queries; artifact "
              f"{sum(f.stat().st_size for f in saved.path.iterdir()) / 1e6:.0f} MB")  # fmt: skip
        _serve(root / "home")
    return 0


def _serve(home: Path) -> None:
    """An API worker on the saved version: seconds until ready, and its RSS."""
    port = 8000 + os.getpid() % 1000
    env = {**os.environ, "MOVIE_R_HOME": str(home), "MOVIE_R_INTERACTIONS": ""}
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "-m", "movie_r.cli", "serve", "--port", str(port), "-q"], env=env)
    try:
        while time.perf_counter() - started < 600:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        print(f"{'API worker ready':<28}{time.perf_counter() - started:>10.1f} s{rss_mb(worker.pid):>10.0f} MB RSS", flush=True)
    finally:
        worker.terminate()
        worker.wait(30)


if __name__ == "__main__":
    sys.exit(main())
