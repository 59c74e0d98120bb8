"""Memory of a real API worker under requests meant to grow it, against ordinary traffic.

    python benchmarks/abuse.py [--requests 5000]

Trains a TF-IDF model on the default data into a temporary storage root, starts one
`movie-r serve` worker, and sends, one after another on one connection:
  1. ordinary: distinct `/recommend?movie=<title>` requests (the baseline);
  2. padded: `/recommend?movie=Heat&pad=<unique 60 kB>` (the probe's flood, 22,000 there);
  3. heavy: distinct valid requests as large as the limits allow (a 190-character text,
     k=100, 499 excluded ids);
  4. feedback: `POST /feedback` with forged ids, then with a 10 MB body.
Prints the worker's RSS after each phase, each phase's growth, the status codes, and the
growth of each phase as a ratio to the ordinary phase's.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from movie_r.storage.registry import Registry
from tests.processes import start_api, stop


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    n = parser.parse_args().requests
    home = Path(tempfile.mkdtemp(prefix="movie_r-abuse-"))
    command = [sys.executable, "-m", "movie_r.cli.main", "train", "--model", "tfidf", "-q", "--home", str(home)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    titles = Registry(home / "models").champion().load()[-1].titles_
    process, url = start_api(home, {"MOVIE_R_WARM_ANSWERS": "0"})
    phases = {
        "ordinary": lambda i: {"movie": titles[i % len(titles)]},
        "padded": lambda i: {"movie": "Heat", "pad": f"{i:06d}" + "x" * 60_000},
        "heavy": lambda i: {"movie": f"{i} " + "space " * 30, "k": 100, "exclude": ",".join(str(j) for j in range(i, i + 499))},
    }
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            client.get("/recommend", params={"movie": "warm up"})
            before = rss_mb(process.pid)
            print(f"one worker, {n} requests a phase; RSS at start {before:.0f} MB")
            growth = {}
            for name, params in phases.items():
                codes = collections.Counter(client.get("/recommend", params=params(i)).status_code for i in range(n))
                after = rss_mb(process.pid)
                growth[name] = after - before
                print(f"{name:<9} RSS {after:7.0f} MB  growth {growth[name]:+7.1f} MB  statuses {dict(codes)}")
                before = after
            forged = collections.Counter(
                client.post("/feedback", json={"request_id": f"r{i}", "movie_id": 1, "action": "dislike"}).status_code
                for i in range(n)
            )
            big = client.post("/feedback", content=b"x" * (10 << 20), headers={"content-type": "application/json"})
            print(f"feedback  forged ids {dict(forged)}; 10 MB body {big.status_code}; RSS {rss_mb(process.pid):.0f} MB")
            base = max(abs(growth["ordinary"]), 1.0)
            print("growth vs ordinary: " + ", ".join(f"{k} {v / base:.2f}" for k, v in growth.items()))
    finally:
        stop(process)


if __name__ == "__main__":
    main()
