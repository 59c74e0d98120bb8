"""Title resolution on the labelled resolution set: precision and recall, and lookup speed.

    python benchmarks/resolution.py

The set (`tests/data/resolution_set.json`, written by `scripts/build_resolution_set.py` from
the default catalogue's titles by rules) holds exact titles, typos, partial titles, sequel
numbers, alternate (often original-language) titles, descriptions and unknown films. Typo
lookups are timed against exact lookups of the same titles in the same run: the ratio says
what a typo costs, whatever the machine's speed today.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from movie_r.answering.titles import TitleIndex
from movie_r.data.loading import load_catalog
from movie_r.lifecycle.evaluation import resolution_scores
from movie_r.settings import Settings

SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "resolution_set.json"
REPEATS = 20


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)  # no options; --help says what it does
    movies = load_catalog(Settings().catalog).movies
    titles, ids = movies["title"].tolist(), movies["id"].astype(int).tolist()
    index = TitleIndex(titles, movies["popularity"].to_numpy())
    cases = json.loads(SET.read_text())["cases"]
    scores = resolution_scores(index, titles, ids, cases)
    print(f"{len(cases)} labelled queries: {dict(Counter(case['category'] for case in cases))}")
    print(f"title resolution:    precision {scores.title_precision:.3f}  recall {scores.title_recall:.3f}")
    print(f"cold-start detection: precision {scores.cold_precision:.3f}  recall {scores.cold_recall:.3f}")
    counts = Counter(case["category"] for case in cases)
    wrong = Counter(category for category, _, _ in scores.wrong)
    for category, count in counts.items():
        print(f"  {category:<18} {count:>4} cases, {wrong[category]:>3} wrong, right {1 - wrong[category] / count:.3f}")
    slips = [category for category in counts if category.startswith("typo")]
    right = 1 - sum(wrong[c] for c in slips) / sum(counts[c] for c in slips)
    print(f"typo recall, every kind of slip: {right:.3f}")
    for category, query, got in scores.wrong:
        print(f"    {category:<12} {query!r} -> {got!r}")
    typos = [case["query"] for case in cases if case["category"].startswith("typo")]
    exact = [case["query"] for case in cases if case["category"] == "exact"]
    typo_ms, exact_ms = _per_lookup_ms(index, typos), _per_lookup_ms(index, exact)
    print(f"lookup: typo {typo_ms:.4f} ms, exact {exact_ms:.4f} ms, typo / exact = {typo_ms / exact_ms:.1f}x")
    return 0


def _per_lookup_ms(index: TitleIndex, queries: list[str]) -> float:
    best = float("inf")
    for _ in range(REPEATS):  # the fastest pass: the lookups' own cost, not the machine's busy moments
        started = time.perf_counter()
        for query in queries:
            index.lookup(query)
        best = min(best, time.perf_counter() - started)
    return best / len(queries) * 1000


if __name__ == "__main__":
    sys.exit(main())
