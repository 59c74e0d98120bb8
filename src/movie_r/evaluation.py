"""Scoring any fitted pipeline the same way, so champion and challenger compare fairly.

With interactions the protocol is time-aware and item-to-item: for each user, the latest
20 % of positives (rating >= 4) are the test set and nothing at or after the first of
them is used; the query is the user's latest positive before that point, the relevant
movies are the test positives, and movies the user rated before are not recommended.
Without interactions, proxy metrics stand in: genre precision@10, catalogue coverage and
title resolution on synthetic typos of real titles.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from movie_r.inference import Filters, Recommender
from movie_r.progress import progress
from movie_r.titles import normalise_title

POSITIVE_RATING = 4.0
TEST_FRACTION = 0.2
CUTOFF = 10
PROXY_SAMPLE = 1000
TYPO_SAMPLE = 300


@dataclass(frozen=True)
class Query:
    """One item-to-item test case: recommend from `movie_id`, hope to find `relevant`."""

    user_id: str
    movie_id: int
    relevant: frozenset[int]
    seen: frozenset[int]


@dataclass(frozen=True)
class Split:
    """Training interactions and the test queries carved from what follows them in time."""

    train: pd.DataFrame
    queries: list[Query]


@dataclass
class EvaluationReport:
    """Metrics of one model on one split; `score` is the number promotion compares."""

    protocol: str  # "interactions" | "proxy"
    score_name: str
    score: float
    metrics: dict[str, float]
    n_queries: int
    per_query: list[float] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        """The report without per-query scores, as stored in manifests."""
        data = asdict(self)
        data.pop("per_query")
        return data


def split_interactions(ratings: pd.DataFrame, test_fraction: float = TEST_FRACTION) -> Split:
    """Per-user time-aware split; users with fewer than two positives give no query."""
    ordered = ratings.sort_values(["user_id", "timestamp"], kind="stable")
    train_parts, queries = [], []
    for user_id, rows in ordered.groupby("user_id", sort=True):
        positives = rows[rows["rating"] >= POSITIVE_RATING]
        n_test = math.ceil(len(positives) * test_fraction)
        if len(positives) < 2 or n_test >= len(positives):
            train_parts.append(rows)
            continue
        cutoff = positives["timestamp"].iloc[len(positives) - n_test]
        before = rows[rows["timestamp"] < cutoff]
        train_parts.append(before)
        earlier_positives = before[before["rating"] >= POSITIVE_RATING]
        if earlier_positives.empty:
            continue
        queries.append(
            Query(
                user_id=str(user_id),
                movie_id=int(earlier_positives["movie_id"].iloc[-1]),
                relevant=frozenset(positives.loc[positives["timestamp"] >= cutoff, "movie_id"].astype(int)),
                seen=frozenset(before["movie_id"].astype(int)),
            )
        )
    train = pd.concat(train_parts, ignore_index=True) if train_parts else ratings.iloc[:0]
    return Split(train, queries)


def ranking_metrics(ranked: Sequence[int], relevant: frozenset[int], cutoff: int = CUTOFF) -> dict[str, float]:
    """NDCG, MAP, recall, hit rate and reciprocal rank of one ranked list (binary relevance)."""
    hits = [movie in relevant for movie in ranked[:cutoff]]
    ideal = min(len(relevant), cutoff)
    dcg = sum(1.0 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit)
    idcg = sum(1.0 / math.log2(rank + 2) for rank in range(ideal))
    precision_sum, found = 0.0, 0
    for rank, hit in enumerate(hits):
        if hit:
            found += 1
            precision_sum += found / (rank + 1)
    first = next((rank for rank, hit in enumerate(hits) if hit), None)
    return {
        f"ndcg@{cutoff}": dcg / idcg if idcg else 0.0,
        f"map@{cutoff}": precision_sum / ideal if ideal else 0.0,
        f"recall@{cutoff}": found / len(relevant) if relevant else 0.0,
        f"hitrate@{cutoff}": 1.0 if found else 0.0,
        "mrr": 1.0 / (first + 1) if first is not None else 0.0,
    }


def evaluate(recommender: Recommender, split: Split | None, cutoff: int = CUTOFF) -> EvaluationReport:
    """Score `recommender` on `split` (interactions protocol) or, without one, by proxy."""
    if split is None or not split.queries:
        return evaluate_proxy(recommender, cutoff)
    per_query: list[dict[str, float]] = []
    recommended: set[int] = set()
    known = [q for q in split.queries if q.movie_id in recommender.row_of_id]
    for query in progress(known, total=len(known), desc="evaluate"):
        result = recommender.recommend(movie_id=query.movie_id, k=cutoff, filters=Filters(exclude=query.seen))
        ranked = [item.id for item in result.recommendations]
        recommended.update(ranked)
        per_query.append(ranking_metrics(ranked, query.relevant, cutoff))
    metrics = {name: float(np.mean([q[name] for q in per_query])) if per_query else 0.0 for name in _metric_names(cutoff)}
    metrics["coverage"] = len(recommended) / max(1, len(recommender))
    score_name = f"ndcg@{cutoff}"
    return EvaluationReport(
        "interactions", score_name, metrics[score_name], metrics, len(per_query), [q[score_name] for q in per_query]
    )


def evaluate_proxy(recommender: Recommender, cutoff: int = CUTOFF, seed: int = 0) -> EvaluationReport:
    """Genre precision@k over a fixed sample of movies, coverage, and typo resolution."""
    model = recommender.model
    rng = random.Random(seed)
    with_genres = [row for row, genres in enumerate(model.genres_) if genres]
    sample = sorted(rng.sample(with_genres, min(PROXY_SAMPLE, len(with_genres))))
    per_query, recommended = [], set()
    for row in progress(sample, total=len(sample), desc="evaluate"):
        result = recommender.recommend(movie_id=int(model.ids_[row]), k=cutoff)
        wanted = set(model.genres_[row])
        shares = [bool(wanted & set(item.genres)) for item in result.recommendations]
        recommended.update(item.id for item in result.recommendations)
        per_query.append(sum(shares) / cutoff)
    score_name = f"genre_precision@{cutoff}"
    metrics = {
        score_name: float(np.mean(per_query)) if per_query else 0.0,
        "coverage": len(recommended) / max(1, len(recommender)),
        "title_resolution": title_resolution_accuracy(recommender, rng),
    }
    return EvaluationReport("proxy", score_name, metrics[score_name], metrics, len(per_query), per_query)


def title_resolution_accuracy(recommender: Recommender, rng: random.Random) -> float:
    """Share of real titles, each with one synthetic typo, that resolve back to that title."""
    titles = [t for t in recommender.model.titles_ if len(normalise_title(t)) >= 6]
    sample = rng.sample(titles, min(TYPO_SAMPLE, len(titles)))
    resolved = 0
    for title in sample:
        found = recommender.titles.lookup(typo(title, rng))
        if found and normalise_title(recommender.model.titles_[found.rows[0]]) == normalise_title(title):
            resolved += 1
    return resolved / len(sample) if sample else 0.0


def typo(text: str, rng: random.Random) -> str:
    """One realistic slip: drop, double, swap or replace a letter away from the first one."""
    positions = [i for i, char in enumerate(text) if char.isalpha() and i > 0]
    if not positions:
        return text
    i = rng.choice(positions)
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    if kind == "swap" and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1 :]


def _metric_names(cutoff: int) -> list[str]:
    return [f"ndcg@{cutoff}", f"map@{cutoff}", f"recall@{cutoff}", f"hitrate@{cutoff}", "mrr"]
