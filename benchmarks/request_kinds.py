"""What each kind of /recommend request costs the real API, against /health, in one run.

    python benchmarks/request_kinds.py [--home DIR] [--duration 5] [--workers 1 2]

Trains the default model into a temporary storage root (or serves the one in `--home`),
then for each worker count starts `movie-r serve` once and runs wrk (Debian package `wrk`)
for `--duration` seconds per line, one line after another on the same server:

- /health, the baseline of every ratio;
- exact titles: the most popular titles as the catalogue writes them (cached after their
  first request, as popular titles are in production);
- typos: the same titles as people say them ("The Lion King" for "Lion King, The") with
  one slip each, every request a new one (no request repeats during a run, so nothing of
  it is cached but the movie's list);
- ids, lower-case partial titles (the first words of a title) and free-text descriptions;
- a realistic mix: 40 % titles, 25 % typos, 20 % ids, 10 % partial, 5 % text, drawn from
  the lines before except the typos, which are new ones;
- histories: five popular ids per request (`movie_id` repeated), a new history every
  request, so each answer is combined from the seeds' lists, never taken from a cache.

Prints requests/s, p50/p99 and the ratios the targets are stated in: typo / exact title,
mix / /health, the mix's p99 / /health's p99, and a five-seed history / exact title. wrk shares the two cores with the server.
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
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[0]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api_load import DESCRIPTIONS, serve, wrk  # noqa: E402  (a sibling script, not a package)

from movie_r.lifecycle.evaluation import typo  # noqa: E402
from movie_r.storage.registry import Registry  # noqa: E402
from tests.processes import stop  # noqa: E402

POPULAR = 2000
FRESH = 80_000  # more typos than a line can send, so none repeats
MIX = {"titles": 0.40, "typos": 0.25, "ids": 0.20, "partial": 0.10, "text": 0.05}
HISTORY_SEEDS = 5


def kinds(home: Path, seed: int = 0) -> dict[str, list[str]]:
    """The paths of every line; typos are distinct across the typo line and the mix."""
    model = Registry(home / "models").champion().load()[-1]
    rng = random.Random(seed)
    popular = sorted(range(len(model.ids_)), key=lambda row: -model.popularity_[row])[:POPULAR]
    titles = [model.titles_[row] for row in popular]
    said = [_said(title) for title in titles]
    seen: set[str] = set(said)
    typos: list[str] = []
    while len(typos) < FRESH + 20_000:
        slipped = typo(rng.choice(said), rng)
        if slipped not in seen:
            seen.add(slipped)
            typos.append(slipped)
    partial = sorted({" ".join(t.lower().split()[:2]) for t in titles if len(t.split()) > 2})
    text = [f"{d} {extra}".strip() for d in DESCRIPTIONS for extra in ("", "from the 90s", "with friends", "for tonight")]

    def path(params: dict[str, object]) -> str:
        return "/recommend?" + urlencode({**params, "k": 10})

    lines = {
        "titles": [path({"movie": t}) for t in titles],
        "typos": [path({"movie": t}) for t in typos[:FRESH]],
        "ids": [path({"movie_id": int(model.ids_[row])}) for row in popular],
        "partial": [path({"movie": p}) for p in partial],
        "text": [path({"movie": t}) for t in text],
    }
    fresh = iter(typos[FRESH:])
    mix = []
    for _ in range(20_000):
        kind = rng.choices(list(MIX), list(MIX.values()))[0]
        mix.append(path({"movie": next(fresh)}) if kind == "typos" else rng.choice(lines[kind]))
    lines["mix"] = mix
    ids = [int(model.ids_[row]) for row in popular]
    lines["histories"] = ["/recommend?" + urlencode([*(("movie_id", i) for i in rng.sample(ids, HISTORY_SEEDS)), ("k", 10)])
                          for _ in range(FRESH)]  # fmt: skip
    return lines


def _said(title: str) -> str:
    """"Lion King, The (1994)" -> "The Lion King": the article where people type it, no year,
    no alternative title in parentheses."""
    title = re.sub(r"\s*\([^()]*\)\s*$", "", re.sub(r"\s*\(\d{4}\)\s*$", "", title.strip())) or title
    moved = re.match(r"^(.*), (The|A|An)$", title)
    return f"{moved.group(2)} {moved.group(1)}" if moved else title


def script(paths: list[str], directory: Path, name: str) -> Path:
    """A wrk script sending `paths` in order, each once (then from the start again)."""
    file = directory / f"{name}.lua"
    quoted = ",\n".join(f'"{p}"' for p in paths)
    file.write_text(
        f"paths = {{\n{quoted}\n}}\ncounter = 0\n"
        "request = function()\n  counter = counter + 1\n  return wrk.format('GET', paths[(counter % #paths) + 1])\nend\n"
    )
    return file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a storage root with a champion (default: train one)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=5, help="seconds per line")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    home = args.home or Path(tempfile.mkdtemp(prefix="movie_r-kinds-"))
    if args.home is None:
        subprocess.run([sys.executable, "-m", "movie_r.cli.main", "train", "-q", "--home", str(home)], check=True, stdout=subprocess.DEVNULL)
    scratch = Path(tempfile.mkdtemp(prefix="movie_r-kinds-lua-"))
    scripts = {name: script(paths, scratch, name) for name, paths in kinds(home).items()}
    print(f"wrk -t1 -c{args.connections} -d{args.duration}s per line, default data, k=10, {os.cpu_count()} cores")
    print(f"{'line':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'vs /health':>12}")
    for workers in args.workers:
        process, url, _ = serve(home, workers, cache_size=20_000)
        try:
            runs = {"health": wrk(f"{url}/health", args.connections, args.duration, threads=1)}
            for name, file in scripts.items():
                runs[name] = wrk(url, args.connections, args.duration, file, threads=1)
        finally:
            stop(process)
        for name, run in runs.items():
            ratio = run["rps"] / runs["health"]["rps"]
            print(f"{f'{name} ({workers}w)':<22}{run['rps']:>9.0f}{run['p50_ms']:>9.2f}{run['p99_ms']:>9.2f}{run['non_2xx']:>9}{ratio:>12.2f}")
        typo_ratio = runs["typos"]["rps"] / runs["titles"]["rps"]
        mix_ratio = runs["mix"]["rps"] / runs["health"]["rps"]
        p99_ratio = runs["mix"]["p99_ms"] / runs["health"]["p99_ms"]
        print(
            f"  {workers}w targets: typos / titles {typo_ratio:.2f} (>= 0.8), mix / health {mix_ratio:.2f} (>= 0.8), "
            f"mix p99 / health p99 {p99_ratio:.2f} (<= 1.25), "
            f"{HISTORY_SEEDS}-seed histories / titles {runs['histories']['rps'] / runs['titles']['rps']:.2f} (>= 0.5)"
        )
    shutil.rmtree(scratch, ignore_errors=True)
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
