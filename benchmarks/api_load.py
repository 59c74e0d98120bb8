"""Throughput and latency of the real API under wrk, /recommend against /health in one run.

    python benchmarks/api_load.py [--connections 50] [--duration 10] [--workers 1 2]

Trains the default model into a temporary storage root, then for each worker count starts
`movie-r serve`, measures how long until every worker has loaded the model, and runs
wrk (Debian package `wrk`) against /health and against /recommend with a realistic mix of
requests — exact titles weighted by popularity, typos, cold-start descriptions and ids —
on a freshly started server each round: the mix (this first pass meets every distinct
request for the first time, as after a restart or a model swap), /health, and the mix
again (answers cached), then once with the answer caches off (the version's precomputed
lists still serve). Prints requests/s, p50/p99 latency and the ratio to /health measured
on the same server, as medians over rounds because this box drifts. wrk shares the two
cores with the server.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from movie_r.lifecycle.evaluation import typo
from movie_r.storage.registry import Registry
from tests.processes import free_port, movie_r_process, stop, wait_until

DESCRIPTIONS = [
    "space adventure with robots", "romantic comedy in paris", "dark crime thriller", "animated film for children",
    "war drama about soldiers", "haunted house horror", "heist with a twist", "coming of age story",
    "superhero saves the city", "documentary about music", "western gunfight", "murder mystery on a train",
]  # fmt: skip


def request_mix(home: Path, size: int, seed: int = 0) -> list[str]:
    """Paths for wrk: 50 % exact titles (popularity-weighted), 20 % typos, 15 % text, 15 % ids."""
    model = Registry(home / "models").champion().load()[-1]
    rng = random.Random(seed)
    rows = list(range(len(model.ids_)))
    weights = [p + 1 for p in model.popularity_]
    paths = []
    for _ in range(size):
        kind = rng.random()
        row = rng.choices(rows, weights)[0]
        if kind < 0.5:
            params = {"movie": model.titles_[row]}
        elif kind < 0.7:
            params = {"movie": typo(model.titles_[row], rng)}
        elif kind < 0.85:
            params = {"movie": f"{rng.choice(DESCRIPTIONS)} {rng.choice(['', 'from the 90s', 'with friends'])}".strip()}
        else:
            params = {"movie_id": int(model.ids_[row])}
        paths.append("/recommend?" + urlencode({**params, "k": 10}))
    return paths


def lua_script(paths: list[str], directory: Path) -> Path:
    script = directory / "mix.lua"
    quoted = ",\n".join(f'"{p}"' for p in paths)
    script.write_text(
        f"paths = {{\n{quoted}\n}}\n"
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1])\n"
        "end\n"
    )
    return script


def wrk(url: str, connections: int, duration: int, script: Path | None = None, threads: int = 2) -> dict[str, float]:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _latency(output, "50%"),
        "p99_ms": _latency(output, "99%"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def median_run(runs: list[dict[str, float]], baselines: list[dict[str, float]]) -> dict[str, float | str]:
    """Each figure's median over rounds, with the ratio to /health taken round by round.

    Pairing each run with the /health run of the same server and minute keeps the box's
    drift out of the ratio; the spreads show how far single rounds strayed.
    """
    ratios = [run["rps"] / base["rps"] for run, base in zip(runs, baselines, strict=True)]
    summary = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50_ms", "p99_ms")}
    return {
        **summary,
        "ratio": statistics.median(ratios),
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "spread": f"{min(ratios):.2f}-{max(ratios):.2f}  {min(r['p99_ms'] for r in runs):.1f}-{max(r['p99_ms'] for r in runs):.1f}",
    }


def _row(label: str, run: dict[str, float | str]) -> None:
    print(
        f"{label:<34}{run['rps']:>8.0f}{run['p50_ms']:>8.2f}{run['p99_ms']:>8.2f}{run['non_2xx']:>8}"
        f"{run['ratio']:>11.2f}   {run['spread']}"
    )


def serve(home: Path, workers: int, cache_size: int) -> tuple[subprocess.Popen, str, float]:
    """Start the API; returns once every worker has finished its startup (the champion is
    loaded in the lifespan, before a worker accepts) and /ready answers.

    Counting /ready answers is not enough: with one listening socket, the workers still
    loading do not accept, so twenty answers in a row all came from the first worker up.
    """
    port = free_port()
    log = home / f"serve-{port}.log"
    started = time.perf_counter()
    env = {"MOVIE_R_CACHE_SIZE": str(cache_size), "MOVIE_R_WORKERS": str(workers)}
    process = movie_r_process(["serve", "--port", str(port)], home, env, log=log)
    url = f"http://127.0.0.1:{port}"

    def all_ready() -> bool:
        started_workers = log.read_text().count("Application startup complete.")
        return started_workers >= workers and httpx.get(f"{url}/ready").status_code == 200

    if not wait_until(all_ready, timeout=60, interval=0.01):
        stop(process)
        raise SystemExit(f"the API did not become ready; see {log}")
    return process, url, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="uvicorn worker counts to measure")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each on a freshly started server")
    parser.add_argument("--mix-size", type=int, default=5000, help="distinct /recommend requests in the mix")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    home = Path(tempfile.mkdtemp(prefix="movie_r-bench-"))
    subprocess.run(
        [sys.executable, "-m", "movie_r.cli.main", "train", "-q", "--home", str(home)], check=True, stdout=subprocess.DEVNULL
    )
    script = lua_script(request_mix(home, args.mix_size), home)
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s, default data, k=10, {os.cpu_count()} cores")
    print(f"/recommend mix: {args.mix_size} distinct requests (50% titles, 20% typos, 15% descriptions, 15% ids)")
    print(f"{args.rounds} rounds, each on a freshly started server: /recommend (cold), /health, /recommend (warm)")
    print("figures are medians over rounds; ratios are taken within a round; spreads are min-max")
    print(f"{'run':<34}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>8}{'vs /health':>11}   ratio & p99 spread")
    for workers in args.workers:
        health, cold, warm, ready = [], [], [], []
        for _ in range(args.rounds):
            process, url, ready_seconds = serve(home, workers, cache_size=20_000)
            try:  # the first pass first: it is what a restarted server meets
                ready.append(ready_seconds)
                cold.append(wrk(url, args.connections, args.duration, script))
                health.append(wrk(f"{url}/health", args.connections, args.duration))
                warm.append(wrk(url, args.connections, args.duration, script))
            finally:
                stop(process)
        process, url, _ = serve(home, workers, cache_size=0)
        try:
            health_uncached = wrk(f"{url}/health", args.connections, args.duration)
            uncached = wrk(url, args.connections, args.duration, script)
        finally:
            stop(process)
        _row(f"/health ({workers}w)", median_run(health, health))
        _row(f"/recommend ({workers}w), 1st pass", median_run(cold, health))
        _row(f"/recommend ({workers}w), 2nd pass", median_run(warm, health))
        _row(f"/recommend ({workers}w), cache off", median_run([uncached], [health_uncached]))
        print(f"{'  every worker ready after start':<34}{statistics.median(ready):>8.2f} s   (max {max(ready):.2f} s)")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
