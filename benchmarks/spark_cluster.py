"""The content stage on the compose file's Spark cluster: one worker against two, and the
local engine on the same cores, in one run.

    make images && MOVIE_R_BASE=movie_r-base:bookworm MOVIE_R_AGENT_TARGET=agent-spark \\
        docker-compose --profile spark build spark-master          # the agent-spark image, once
    python benchmarks/spark_cluster.py                             # 200,000 movies, content only
    python benchmarks/spark_cluster.py --movies 50000

Generates a content-only synthetic catalogue into a storage root of its own, starts the
spark profile's master and workers in a compose project of its own, and times
`Blend.fit_neighbours` inside an agent-spark container (the driver) three ways: on the
cluster with one worker, with two, and on the local engine with the container's cores.
Each worker offers one core (MOVIE_R_SPARK_WORKER_CORES), so two workers hold the cores the
local engine uses. Prints each wall, the speed-up of two workers over one, the overhead of
Spark against the local engine, and whether the three runs' arrays are equal.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the synthetic data generator lives with the tests
from tests.synthetic import synthetic_catalog, write_catalog_csv  # noqa: E402

# run by the agent-spark image's Python, as the service user (read from stdin)
DRIVER = """
import hashlib, json, sys, time
import numpy as np
from movie_r.data.loading import load_catalog
from movie_r.engines.engine import engine_for
from movie_r.recommenders.pipeline import build_pipeline
from movie_r.settings import Settings

engine_name, master = sys.argv[1], sys.argv[2]
movies = load_catalog("/var/lib/movie_r/catalog.csv").movies
pipeline = build_pipeline("tfidf")
features = pipeline[:-1].fit_transform(movies)
blend = pipeline[-1].fit_signals(features, movies, None)
settings = Settings(engine=engine_name, spark_master=master, spark_work_dir="/var/lib/movie_r/spark")
with engine_for(settings) as engine:
    if engine_name == "spark":
        engine.runner.start()
    started = time.perf_counter()
    blend.fit_neighbours(runner=engine.runner)
    seconds = time.perf_counter() - started
digest = hashlib.sha256(blend.neighbors_.tobytes() + blend.similarities_.round(6).tobytes()).hexdigest()[:16]
print(json.dumps({"seconds": seconds, "arrays": digest}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    compose = ["docker-compose"] if subprocess.run(["which", "docker-compose"], capture_output=True).returncode == 0 else ["docker", "compose"]
    with tempfile.TemporaryDirectory(prefix="spark-cluster-") as scratch:
        root = Path(scratch)
        write_catalog_csv(synthetic_catalog(args.movies, seed=args.seed), root / "catalog.csv")
        project = f"movie_r_bench_{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "MOVIE_R_BASE": os.environ.get("MOVIE_R_BASE", "movie_r-base:bookworm"),
            "MOVIE_R_AGENT_TARGET": "agent-spark",
            "MOVIE_R_RUNTIME": str(root),
            "MOVIE_R_SPARK_WORKER_CORES": "1",
        }
        prefix = [*compose, "-p", project, "-f", str(REPO / "docker-compose.yml"), "--profile", "spark"]

        def run(*command: str, stdin: str | None = None) -> str:
            done = subprocess.run([*prefix, *command], input=stdin, capture_output=True, text=True, env=env, cwd=REPO)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
            return done.stdout

        def timed(engine: str, master: str) -> dict:
            out = run("run", "--rm", "--no-deps", "-T", "agent", "python", "-", engine, master, stdin=DRIVER)
            return json.loads(out.strip().splitlines()[-1])

        print(f"{args.movies} movies, content only; {os.cpu_count()} cores; workers of one core each")
        try:
            run("up", "-d", "spark-master", "spark-worker-1")
            time.sleep(10)  # the worker registers with the master
            one = timed("spark", "spark://spark-master:7077")
            print(f"cluster, 1 worker     {one['seconds']:>8.1f} s")
            run("up", "-d", "spark-worker-2")
            time.sleep(10)
            two = timed("spark", "spark://spark-master:7077")
            print(f"cluster, 2 workers    {two['seconds']:>8.1f} s")
            run("stop", "spark-worker-1", "spark-worker-2", "spark-master")
            local = timed("local", "local[*]")
            print(f"local engine          {local['seconds']:>8.1f} s")
        finally:
            subprocess.run([*prefix, "down", "--volumes", "--remove-orphans", "--timeout", "5"], capture_output=True, env=env, cwd=REPO)
        print(f"speed-up, 2 workers / 1: {one['seconds'] / two['seconds']:.2f}x (target >= 1.7x)")
        print(f"overhead, 2 workers / local engine on as many cores: {two['seconds'] / local['seconds']:.2f}x")
        print(f"arrays equal in all three: {one['arrays'] == two['arrays'] == local['arrays']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
