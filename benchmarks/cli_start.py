"""Wall time of the quick `movie-r` commands, against a bare interpreter started the same way.

    python benchmarks/cli_start.py [--home DIR] [--runs N]

Runs `movie-r status` and `movie-r models` N times each on the home (default: the one the
commands use, the repo root or $MOVIE_R_HOME; it should hold a champion), interleaved with
`python -c pass` as the baseline, and prints the median and best wall time of each, their
ratio to the baseline, and what `import movie_r.cli.main` costs (`-X importtime`, cumulative
microseconds of the ten slowest top-level imports). The target is well under a second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def wall(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def import_times(env: dict[str, str]) -> list[tuple[int, str]]:
    """(cumulative us, module) of the top-level imports `movie-r` makes before it parses arguments."""
    found = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import movie_r.cli.main; movie_r.cli.main.build_parser()"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = []
    for line in found.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            if not name.startswith("  "):  # top level: no nesting indent beyond the one space
                rows.append((int(parts[1]), name.strip()))
    return sorted(rows, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="storage root (default: what movie-r uses)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ)
    if args.home:
        env["MOVIE_R_HOME"] = str(args.home)
    movie_r = str(BIN / "movie-r")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "movie-r status": [movie_r, "status"],
        "movie-r models": [movie_r, "models"],
    }
    for command in commands.values():  # warm the page cache and bytecode
        wall(command, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(wall(command, env))
    home = env.get("MOVIE_R_HOME", "the default home")
    print(f"home {home}; {args.runs} runs each, interleaved; {os.cpu_count()} cores")
    baseline = statistics.median(times["python -c pass"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<16} median {median:.3f} s  best {min(values):.3f} s  ({median / baseline:.1f}x the bare interpreter)")
    rows = import_times(env)
    total = sum(us for us, _ in rows)
    print(f"import movie_r.cli.main and build the parser: {total / 1e6:.3f} s of imports; slowest:")
    for us, name in rows[:10]:
        print(f"  {us / 1e3:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
