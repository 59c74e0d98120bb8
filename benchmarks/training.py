"""Training time and peak memory of the content model, against the naive n x n approach.

    python benchmarks/training.py [--sizes 10000 20000 40000 100000] [--naive-max 20000]

Each measurement runs in a fresh subprocess so its peak RSS is its own. "blockwise" is
movie_r's pipeline fit (TF-IDF + blockwise top-K neighbours); "naive" builds the full
`cosine_similarity(X)` matrix and takes the top-K of each row, as a notebook would. The
naive run is skipped where its matrices would not fit comfortably in memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

K = 100


def child(size: str, method: str) -> dict[str, float]:
    """Run one measurement in this process and return its numbers."""
    import numpy as np
    from sklearn.metrics.pairwise import cosine_similarity

    from movie_r.recommenders.pipeline import build_pipeline, fit_pipeline

    if size == "default":
        from movie_r.data.loading import load_catalog
        from movie_r.settings import Settings

        movies = load_catalog(Settings().catalog).movies
    else:
        from tests.synthetic import synthetic_catalog

        movies = synthetic_catalog(int(size))
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    if method == "blockwise":
        fit_pipeline(build_pipeline(), movies)
    else:
        matrix = build_pipeline()[:-1].fit_transform(movies)
        similarities = cosine_similarity(matrix)
        np.fill_diagonal(similarities, -np.inf)
        n = similarities.shape[0]
        np.argpartition(similarities, n - K, axis=1)[:, n - K :]
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": len(movies), "seconds": seconds, "peak_mb": peak_mb, "data_mb": baseline_mb}


def measure(size: str, method: str) -> dict[str, float] | None:
    command = [sys.executable, __file__, "--child", size, method]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {method} {size} failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["default", "10000", "20000", "40000", "100000"])
    parser.add_argument("--naive-max", type=int, default=20_000, help="largest n to try the n x n matrix on")
    parser.add_argument("--child", nargs=2, metavar=("SIZE", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return

    print(f"content model fit, top-{K} neighbours, {sys.version.split()[0]}, one process per row")
    header = f"{'catalogue':>10} {'n':>7} | {'blockwise s':>11} {'peak MB':>8} | {'naive s':>8} {'peak MB':>8} | {'time ratio':>10} {'mem ratio':>9}"
    print(header)
    print("-" * len(header))
    previous = None
    for size in args.sizes:
        block = measure(size, "blockwise")
        if block is None:
            continue
        naive = measure(size, "naive") if size == "default" or int(size) <= args.naive_max else None
        line = f"{size:>10} {block['n']:>7} | {block['seconds']:>11.2f} {block['peak_mb']:>8.0f} | "
        if naive:
            line += (
                f"{naive['seconds']:>8.2f} {naive['peak_mb']:>8.0f} | "
                f"{block['seconds'] / naive['seconds']:>10.2f} {block['peak_mb'] / naive['peak_mb']:>9.2f}"
            )
        else:
            needed_gb = block["n"] ** 2 * (8 + 8) / 1e9
            line += f"{'skipped':>8} {f'~{needed_gb:.0f}GB':>8} | {'':>10} {'':>9}"
        print(line, flush=True)
        if previous and size != "default" and previous["n"] != block["n"]:
            growth = block["n"] / previous["n"]
            print(
                f"{'':>10} x{growth:.1f} n -> time x{block['seconds'] / previous['seconds']:.1f}, "
                f"peak memory x{block['peak_mb'] / previous['peak_mb']:.1f}"
            )
        if size != "default":
            previous = block


if __name__ == "__main__":
    main()
