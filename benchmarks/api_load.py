"""Throughput and latency of the real API under wrk, /recommend against /health in one run.

    python benchmarks/api_load.py [--connections 50] [--duration 10] [--workers 1 2]

Trains the default model into a temporary storage root, then for each worker count starts
`movie-r serve`, measures how long it takes until every worker answers /ready, and runs
wrk (Debian package `wrk`) against /health and against /recommend with a realistic mix of
requests — exact titles weighted by popularity, typos, cold-start descriptions and ids —
with the answer cache on (the default) and off, twice each (the first pass meets every
distinct request for the first time). Prints requests/s, p50/p99 latency and the ratio to
/health measured on the same server. wrk runs on the same two cores as the server.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
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


def _row(label: str, run: dict[str, float], health: dict[str, float]) -> None:
    print(
        f"{label:<40}{run['rps']:>10.0f}{run['p50_ms']:>9.2f}{run['p99_ms']:>9.2f}{run['non_2xx']:>9}"
        f"{run['rps'] / health['rps']:>12.2f}"
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
    parser.add_argument("--mix-size", type=int, default=5000, help="distinct /recommend requests in the mix")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    home = Path(tempfile.mkdtemp(prefix="movie_r-bench-"))
    subprocess.run([sys.executable, "-m", "movie_r.cli", "train", "-q", "--home", str(home)], check=True, stdout=subprocess.DEVNULL)
    script = lua_script(request_mix(home, args.mix_size), home)
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s, default data, k=10, {os.cpu_count()} cores")
    print(f"/recommend mix: {args.mix_size} distinct requests (50% titles, 20% typos, 15% descriptions, 15% ids)")
    print(f"{'run':<40}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'vs /health':>12}")
    for workers in args.workers:
        for cache_size in (20_000, 0):
            process, url, ready_seconds = serve(home, workers, cache_size)
            try:
                health = wrk(f"{url}/health", args.connections, args.duration)
                first = wrk(url, args.connections, args.duration, script)
                second = wrk(url, args.connections, args.duration, script)
            finally:
                stop(process)
            label = f"{workers}w, cache {'on' if cache_size else 'off'}"
            _row(f"/health ({label})", health, health)
            _row(f"/recommend ({label}), 1st pass", first, health)
            _row(f"/recommend ({label}), 2nd pass", second, health)
            print(f"{'  every worker ready after start':<40}{ready_seconds:>10.2f} s")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
