"""What serving an online experiment costs: /recommend throughput and a worker's memory, with
and without an interleaving experiment, in one run.

    python benchmarks/experiment_cost.py [--connections 50] [--duration 10] [--rounds 3] [--mode interleave]

Trains the default model (the champion) and the hybrid preset (the candidate) into a
temporary storage root. Each round starts a fresh one-worker server without an experiment
and one with the candidate served beside the champion, and runs wrk with the realistic mix
of `api_load.py` against each, twice (the first pass meets every request for the first
time; the second finds the models' own answers cached; an interleaved list is drawn per
request id, so it is never cached whole). Prints requests/s, p99, the ratio of the
experiment's throughput to the same pass without it (round by round, medians over rounds),
and each server's resident and anonymous memory after its passes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.api_load import lua_script, request_mix, serve, wrk  # noqa: E402
from movie_r.lifecycle import experiments  # noqa: E402
from movie_r.lifecycle.experiments import Ending  # noqa: E402
from movie_r.settings import Settings  # noqa: E402
from movie_r.storage.records import OnlineMode  # noqa: E402
from movie_r.storage.registry import Registry  # noqa: E402
from tests.processes import stop  # noqa: E402


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident and anonymous memory of a process and its children (uvicorn's workers), in MB.

    Resident counts the memory-mapped model's pages a worker has touched, which every worker
    of the machine shares with the page cache; anonymous is the worker's own heap."""
    resident = anonymous = 0
    for process in [pid, *_children(pid)]:
        try:
            rollup = Path(f"/proc/{process}/smaps_rollup").read_text()
        except OSError:
            continue
        fields = {line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if line.endswith("kB")}
        resident += fields.get("Rss", 0)
        anonymous += fields.get("Anonymous", 0)
    return resident / 1024, anonymous / 1024


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *_children(child)]
    return found


def passes(home: Path, args: argparse.Namespace, script: Path) -> tuple[list[dict[str, float]], tuple[float, float]]:
    """Two mix passes on a fresh one-worker server; its memory after them."""
    process, url, _ = serve(home, 1, cache_size=20_000)
    try:
        runs = [wrk(url, args.connections, args.duration, script) for _ in range(2)]
        return runs, memory_mb(process.pid)
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mix-size", type=int, default=5000)
    parser.add_argument("--mode", choices=["interleave", "ab"], default="interleave")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="movie_r-experiment-cost-"))
    train = [sys.executable, "-m", "movie_r.cli.main", "train", "-q", "--home", str(home)]
    subprocess.run(train, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*train, "--model", "hybrid"], check=True, stdout=subprocess.DEVNULL)
    settings = Settings(home=home)
    registry = Registry.of(settings)
    champion = registry.champion()
    candidate = next(v.version for v in registry.versions() if v.version != champion.version)
    print(f"champion {champion.version} ({champion.manifest.kind}), candidate {candidate} (hybrid preset), mode {args.mode}")
    script = lua_script(request_mix(home, args.mix_size), home)
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s, one worker, {args.rounds} rounds, medians; ratios within a round")

    plain: list[list[dict[str, float]]] = []
    served: list[list[dict[str, float]]] = []
    memory: dict[str, list[tuple[float, float]]] = {"without": [], "with": []}
    for _ in range(args.rounds):
        runs, rss = passes(home, args, script)
        plain.append(runs)
        memory["without"].append(rss)
        experiment = experiments.start(registry, candidate, OnlineMode(args.mode), experiments.rule_of(settings), "operator", ["benchmark"])
        try:
            runs, rss = passes(home, args, script)
        finally:
            experiments.end(registry, experiment, Ending.STOPPED, "benchmark")
        served.append(runs)
        memory["with"].append(rss)

    print(f"{'pass':<12}{'req/s without':>15}{'req/s with':>12}{'ratio':>8}{'p99 without':>13}{'p99 with':>10}")
    for i, name in enumerate(("1st pass", "2nd pass")):
        ratios = [s[i]["rps"] / p[i]["rps"] for p, s in zip(plain, served, strict=True)]
        without = statistics.median(p[i]["rps"] for p in plain)
        with_ = statistics.median(s[i]["rps"] for s in served)
        p99 = statistics.median(p[i]["p99_ms"] for p in plain), statistics.median(s[i]["p99_ms"] for s in served)
        print(f"{name:<12}{without:>15.0f}{with_:>12.0f}{statistics.median(ratios):>8.2f}{p99[0]:>13.1f}{p99[1]:>10.1f}"
              f"   (ratio {min(ratios):.2f}-{max(ratios):.2f})")  # fmt: skip
    for i, name in enumerate(("resident", "anonymous (its own)")):
        without, with_ = (statistics.median(m[i] for m in memory[side]) for side in ("without", "with"))
        print(f"worker {name} memory: {without:.0f} MB without, {with_:.0f} MB with ({with_ / without:.2f}x)")


if __name__ == "__main__":
    main()
