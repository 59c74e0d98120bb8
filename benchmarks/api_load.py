"""Throughput and latency of the real API under wrk, /recommend against /health in one run.

    python benchmarks/api_load.py [--connections 50] [--duration 10] [--workers 1 2]

Trains the default model into a temporary storage root, then for each worker count starts
`movie-r serve`, measures how long it takes until every worker answers /ready, and runs
wrk (Debian package `wrk`) against /health and against /recommend with a realistic mix of
requests — exact titles weighted by popularity, typos, cold-start descriptions and ids —
alternately, several rounds (the first /recommend pass meets every distinct request for
the first time; later ones find answers cached), then once with the answer cache off.
Prints requests/s, p50/p99 latency and the ratio to /health measured on the same server,
as medians over rounds because this box drifts. wrk shares the two cores with the server.
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

from movie_r.evaluation import typo  # noqa: E402
from movie_r.registry import Registry  # noqa: E402
from tests.processes import free_port, movie_r_process, stop, wait_until  # noqa: E402

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


def wrk(url: str, connections: int, duration: int, script: Path | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
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


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over repeated runs, and the spread of their throughput."""
    summary = {key: statistics.median(run[key] for run in runs) for key in ("rps", "p50_ms", "p99_ms")}
    spread = f"{min(r['rps'] for r in runs):.0f}-{max(r['rps'] for r in runs):.0f}" if len(runs) > 1 else ""
    return {**summary, "non_2xx": sum(run["non_2xx"] for run in runs), "spread": spread}


def _row(label: str, run: dict[str, float], health: dict[str, float]) -> None:
    print(
        f"{label:<36}{run['rps']:>8.0f}{run['p50_ms']:>8.2f}{run['p99_ms']:>8.2f}{run['non_2xx']:>8}"
        f"{run['rps'] / health['rps']:>11.2f}   {run.get('spread', '')}"
    )


def serve(home: Path, workers: int, cache_size: int) -> tuple[subprocess.Popen, str, float]:
    """Start the API; returns once 20 /ready calls in a row succeed, so every worker has loaded the model."""
    port = free_port()
    started = time.perf_counter()
    env = {"MOVIE_R_CACHE_SIZE": str(cache_size), "MOVIE_R_WORKERS": str(workers)}
    process = movie_r_process(["serve", "--port", str(port)], home, env)
    url = f"http://127.0.0.1:{port}"

    def all_ready() -> bool:
        # a new connection per call (no keep-alive): the kernel spreads connections over the workers
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            return all(client.get(f"{url}/ready").status_code == 200 for _ in range(20))

    if not wait_until(all_ready, timeout=60):
        stop(process)
        raise SystemExit(f"the API did not become ready; see {home / 'serve.log'}")
    return process, url, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="uvicorn worker counts to measure")
    parser.add_argument("--rounds", type=int, default=3, help="/health + /recommend rounds per server")
    parser.add_argument("--mix-size", type=int, default=5000, help="distinct /recommend requests in the mix")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    home = Path(tempfile.mkdtemp(prefix="movie_r-bench-"))
    subprocess.run([sys.executable, "-m", "movie_r.cli", "train", "-q", "--home", str(home)], check=True, stdout=subprocess.DEVNULL)
    script = lua_script(request_mix(home, args.mix_size), home)
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s, default data, k=10, {os.cpu_count()} cores")
    print(f"/recommend mix: {args.mix_size} distinct requests (50% titles, 20% typos, 15% descriptions, 15% ids)")
    print(f"/health and /recommend alternate, {args.rounds} rounds per server; figures are medians over rounds")
    print(f"{'run':<36}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>8}{'vs /health':>11}   req/s spread")
    for workers in args.workers:
        process, url, ready_seconds = serve(home, workers, cache_size=20_000)
        try:
            health, recommend = [], []
            for _ in range(args.rounds):  # alternating, so the box's drift hits both alike
                health.append(wrk(f"{url}/health", args.connections, args.duration))
                recommend.append(wrk(url, args.connections, args.duration, script))
        finally:
            stop(process)
        process, url, _ = serve(home, workers, cache_size=0)
        try:
            uncached = wrk(url, args.connections, args.duration, script)
        finally:
            stop(process)
        baseline = median_run(health)
        _row(f"/health ({workers}w)", baseline, baseline)
        _row(f"/recommend ({workers}w), 1st pass", recommend[0], baseline)
        if len(recommend) > 1:
            _row(f"/recommend ({workers}w), later passes", median_run(recommend[1:]), baseline)
        _row(f"/recommend ({workers}w), cache off", uncached, baseline)
        print(f"{'  every worker ready after start':<36}{ready_seconds:>8.2f} s")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
