"""Recommendation quality of every model kind on the default data, under the agent's protocol.

    python benchmarks/quality.py

Time-aware split per user (latest 20 % of positives are test), item-to-item queries. Each
kind is tuned on a validation split carved from the training interactions only — the same
`movie_r.training.tune` the agent and `movie-r train --model auto` use — then scored once
on the test queries by `movie_r.evaluation.evaluate`. The seed's TF-IDF (stop words,
1-2-grams, 5000 features over title and genres) is the baseline of the ratios.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from movie_r.settings import Settings
from movie_r.training import Candidate, fit_candidate, load_training_data, tune

SEED_TFIDF = {
    "text__title_weight": 1,
    "text__genre_weight": 1,
    "text__overview_weight": 0,
    "text__decade_weight": 0,
    "tfidf__ngram_range": (1, 2),
    "tfidf__max_features": 5000,
    "tfidf__sublinear_tf": False,
    "tfidf__max_df": 1.0,
}
ROWS = [("popularity", "popularity"), ("tuned TF-IDF", "tfidf"), ("item-kNN", "itemknn"), ("EASE", "ease"), ("hybrid", "hybrid")]
METRICS = ["ndcg@10", "map@10", "recall@10", "hitrate@10", "coverage"]


def main() -> None:
    settings = Settings()
    data = load_training_data(settings.catalog, settings.interactions)
    if data.train_ratings is None:
        raise SystemExit("the quality benchmark needs interactions (MOVIE_R_INTERACTIONS)")
    print(f"{len(data.catalog)} movies, {len(data.interactions)} ratings, {len(data.queries.queries)} test queries")
    print(f"{'model':<14}" + "".join(f"{m:>12}" for m in METRICS) + f"{'fit s':>8}{'tuning s':>10}  chosen")
    results: dict[str, Candidate] = {}
    started = time.perf_counter()
    results["seed TF-IDF"] = fit_candidate(settings, data, "tfidf", SEED_TFIDF)
    _print_row("seed TF-IDF", results["seed TF-IDF"], time.perf_counter() - started)
    for label, kind in ROWS:
        started = time.perf_counter()
        results[label] = tune(settings, data, [kind])
        _print_row(label, results[label], time.perf_counter() - started)

    best_label = max((label for label, _ in ROWS), key=lambda label: results[label].report.score)
    best = results[best_label].report.score
    print(f"\nbest: {best_label}, ndcg@10={best:.4f}")
    for label, candidate in results.items():
        if label != best_label:
            print(f"  {best_label} / {label:<13} = {best / max(candidate.report.score, 1e-12):6.2f}x")
    _cold_items(results["hybrid"])


def _print_row(label: str, candidate: Candidate, seconds: float) -> None:
    metrics = candidate.report.metrics
    chosen = {k.removeprefix("recommender__"): v for k, v in candidate.params.items() if k.startswith("recommender__") and "neighbors" not in k}
    print(
        f"{label:<14}" + "".join(f"{metrics[m]:>12.4f}" for m in METRICS)
        + f"{candidate.train_seconds:>8.1f}{seconds:>10.1f}  {chosen if candidate.kind != 'tfidf' else ''}",
        flush=True,
    )  # fmt: skip


def _cold_items(hybrid: Candidate) -> None:
    """Movies nobody rated in the training data must still get content-based lists."""
    model = hybrid.pipeline[-1]
    cold = np.flatnonzero(model.interaction_counts_ == 0)
    shared = np.zeros(len(cold), dtype=bool)
    for i, row in enumerate(cold.tolist()):
        first, _ = model.similar(row, 1)
        shared[i] = len(first) > 0 and len(model.shared_terms(first, model.terms_of(row))[0]) > 0
    print(
        f"cold items (no training interactions): {len(cold)}; whose first recommendation shares content with them: "
        f"{int((shared > 0).sum())} ({(shared > 0).mean():.0%})"
    )


if __name__ == "__main__":
    sys.exit(main())
