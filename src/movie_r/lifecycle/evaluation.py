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

from movie_r.answering.history import MIXING, Mixing, history_ids
from movie_r.answering.inference import Filters, Recommender
from movie_r.answering.titles import TitleIndex
from movie_r.data.franchises import franchise_siblings
from movie_r.data.title_keys import normalise_title
from movie_r.progress import progress
from movie_r.recommenders.evidence import POSITIVE_RATING
from movie_r.storage.manifest import Evaluation

TEST_FRACTION = 0.2
# Test queries kept at most, drawn at random (fixed seed) when users give more: every query
# costs a full answer, and beyond this many the NDCG@10 bootstrap interval is already
# narrower than any promotion margin worth acting on.
MAX_QUERIES = 20_000
CUTOFF = 10
HISTORY_KEPT = 5  # the longest history `evaluate(history=...)` asks with
PROXY_SAMPLE = 1000
TYPO_SAMPLE = 300


@dataclass(frozen=True)
class Query:
    """One item-to-item test case: recommend from `movie_id`, hope to find `relevant`."""

    user_id: str
    movie_id: int
    relevant: frozenset[int]
    seen: frozenset[int]
    history: tuple[int, ...] = ()  # the user's last `HISTORY_KEPT` positives before the cut, oldest first (`movie_id` last)


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

    def record(self) -> Evaluation:
        """The manifest's record of this report."""
        return Evaluation.model_validate(self.summary())


def split_interactions(
    ratings: pd.DataFrame, test_fraction: float = TEST_FRACTION, max_queries: int = MAX_QUERIES
) -> Split:
    """Per-user time-aware split; users with fewer than two positives give no query, and at
    most `max_queries` users (drawn with a fixed seed) give one.

    Vectorised over all users at once (a pandas group per user took minutes at millions of
    ratings); `tests/test_evaluation.py` holds it to a per-user reference.
    """
    users, names = pd.factorize(ratings["user_id"], sort=True)
    ordered = ratings.assign(_user=users).sort_values(["_user", "timestamp"], kind="stable")
    user = ordered.pop("_user").to_numpy()
    times = ordered["timestamp"].to_numpy()
    movies = ordered["movie_id"].to_numpy()
    positive = ordered["rating"].to_numpy() >= POSITIVE_RATING
    n_users = len(names)
    n_positive = np.bincount(user[positive], minlength=n_users)
    n_test = np.ceil(n_positive * test_fraction).astype(np.int64)
    split = (n_positive >= 2) & (n_test < n_positive)
    # the first test positive of each user: its rank among the user's positives is n_positive - n_test
    positive_user = user[positive]
    starts = np.concatenate(([0], np.cumsum(n_positive)[:-1]))
    rank = np.arange(len(positive_user)) - starts[positive_user]
    first_test = split[positive_user] & (rank == (n_positive - n_test)[positive_user])
    cutoff = np.full(n_users, np.inf)
    cutoff[positive_user[first_test]] = times[positive][first_test]
    before = times < cutoff[user]
    after = positive & ~before & split[user]
    train = ordered[before].reset_index(drop=True)
    queried = before & split[user]
    return Split(train, _sampled(_queries(names, user, movies, queried, positive & queried, after), max_queries))


def fixed_sample(count: int, at_most: int, seed: int = 0) -> np.ndarray | None:
    """Sorted positions of at most `at_most` of `count` items, the same on every run; None
    when all fit. Test queries and tuning users are sampled by it, so runs compare."""
    if count <= at_most:
        return None
    return np.sort(np.random.default_rng(seed).choice(count, size=at_most, replace=False))


def _sampled(queries: list[Query], at_most: int) -> list[Query]:
    kept = fixed_sample(len(queries), at_most)
    return queries if kept is None else [queries[i] for i in kept.tolist()]


def _queries(
    names: pd.Index, user: np.ndarray, movies: np.ndarray, seen: np.ndarray, liked_before: np.ndarray, after: np.ndarray
) -> list[Query]:
    """One query per user with a positive before their cut point, in user order."""
    liked_users = user[liked_before]
    last_of_user = np.r_[liked_users[1:] != liked_users[:-1], True] if len(liked_users) else np.zeros(0, dtype=bool)
    last_liked = np.flatnonzero(liked_before)[last_of_user]
    queried = user[last_liked]
    relevant = _grouped(user[after], movies[after], queried)
    earlier = _grouped(user[seen], movies[seen], queried)
    liked = _grouped(liked_users, movies[liked_before], queried)  # in time order: rows are sorted by user, then time
    return [
        Query(
            user_id=str(names[u]),
            movie_id=int(movies[row]),
            relevant=frozenset(relevant[i]),
            seen=frozenset(earlier[i]),
            history=tuple(liked[i][-HISTORY_KEPT:]),
        )
        for i, (u, row) in enumerate(zip(queried.tolist(), last_liked, strict=True))
    ]


def _grouped(owners: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> list[list[int]]:
    """`values` of each of `wanted` owners (owners sorted ascending), as lists in that order."""
    bounds = np.searchsorted(owners, np.stack([wanted, wanted + 1]))
    return [values[a:b].tolist() for a, b in zip(bounds[0].tolist(), bounds[1].tolist(), strict=True)]


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


@dataclass(frozen=True)
class ProxySample:
    """Proxy test cases drawn from the current catalogue, for data without interactions."""

    movie_ids: list[int]
    typos: list[tuple[str, str]]  # (title with one typo, normalised original title)


EvaluationSet = Split | ProxySample


def proxy_sample(movies: pd.DataFrame, seed: int = 0) -> ProxySample:
    """A fixed sample of movies with genres, and of titles with one synthetic typo each."""
    rng = random.Random(seed)
    with_genres = movies.loc[movies["genres"].map(len) > 0, "id"].astype(int).tolist()
    sample = sorted(rng.sample(with_genres, min(PROXY_SAMPLE, len(with_genres))))
    titles = [t for t in movies["title"] if len(normalise_title(t)) >= 6]
    typos = [(typo(t, rng), normalise_title(t)) for t in rng.sample(titles, min(TYPO_SAMPLE, len(titles)))]
    return ProxySample(sample, typos)


class Likeness:
    """Whether lists look like the movie asked about, beside whether people liked them:
    the share of the top `cutoff` sharing a genre with the query movie, and their mean
    popularity percentile in the catalogue (100: the most popular)."""

    def __init__(self, recommender: Recommender, cutoff: int) -> None:
        self.recommender = recommender
        self.cutoff = cutoff
        popularity = recommender.model.popularity_
        self.percentile = 100.0 * np.argsort(np.argsort(popularity, kind="stable"), kind="stable") / max(1, len(popularity) - 1)
        self.overlaps: list[float] = []
        self.percentiles: list[float] = []

    def add(self, movie_id: int, ranked: list[int]) -> None:
        if not ranked:
            return
        genres = self.recommender.model.genres_
        rows = [self.recommender.row_of_id[movie] for movie in ranked]
        wanted = set(genres[self.recommender.row_of_id[movie_id]])
        self.overlaps.append(sum(bool(wanted & set(genres[row])) for row in rows) / len(rows))
        self.percentiles.append(float(np.mean(self.percentile[rows])))

    def metrics(self) -> dict[str, float]:
        return {
            f"genre_overlap@{self.cutoff}": float(np.mean(self.overlaps)) if self.overlaps else 0.0,
            f"popularity_pct@{self.cutoff}": float(np.mean(self.percentiles)) if self.percentiles else 0.0,
        }


def evaluate(
    recommender: Recommender,
    queries: EvaluationSet,
    cutoff: int = CUTOFF,
    novelty: float = 0.0,
    history: int = 0,
    mixing: Mixing = MIXING,
) -> EvaluationReport:
    """Score `recommender` on `queries`: the interactions protocol, or the proxy one.

    Every query counts, including those about movies this model does not know (they score
    0), so two models evaluated on the same set are compared on exactly the same cases.
    With `history` (1..`HISTORY_KEPT`), each query asks with the user's last `history`
    positives before the cut (`movie_r.answering.history`, combined by `mixing`) instead of
    the last one alone.
    """
    if isinstance(queries, ProxySample):
        return _evaluate_proxy(recommender, queries, cutoff)
    per_query: list[dict[str, float]] = []
    recommended: set[int] = set()
    likeness = Likeness(recommender, cutoff)
    for query in progress(queries.queries, total=len(queries.queries), desc="evaluate"):
        ranked: list[int] = []
        if history:
            ranked = history_ids(recommender, query.history[-history:], cutoff, Filters(exclude=query.seen), mixing)
        elif query.movie_id in recommender.row_of_id:
            ranked = recommender.similar_ids(query.movie_id, cutoff, Filters(exclude=query.seen, novelty=novelty))
        if ranked and query.movie_id in recommender.row_of_id:
            likeness.add(query.movie_id, ranked)
        recommended.update(ranked)
        per_query.append(ranking_metrics(ranked, query.relevant, cutoff))
    metrics = {name: float(np.mean([q[name] for q in per_query])) if per_query else 0.0 for name in _metric_names(cutoff)}
    metrics["coverage"] = len(recommended) / max(1, len(recommender))
    metrics.update(likeness.metrics())
    score_name = f"ndcg@{cutoff}"
    return EvaluationReport(
        "interactions", score_name, metrics[score_name], metrics, len(per_query), [q[score_name] for q in per_query]
    )


SIBLINGS_CUTOFF = 5


def franchise_share(recommender: Recommender, cutoff: int = SIBLINGS_CUTOFF) -> float:
    """Of movies whose franchise siblings are in the catalogue (`franchise_siblings`), the
    mean share of those siblings in the first `cutoff` answers (of at most `cutoff` of them):
    1.0 when "like Toy Story" starts with Toy Story 2 and 3. Whether answers look right to a
    person, which the ranking metrics of what people liked do not see."""
    siblings = franchise_siblings(list(recommender.model.titles_))
    ids = recommender.model.ids_
    shares = []
    for row, others in siblings.items():
        answered = set(recommender.similar_ids(int(ids[row]), cutoff, Filters()))
        shares.append(len(answered & {int(ids[other]) for other in others}) / min(cutoff, len(others)))
    return float(np.mean(shares)) if shares else 0.0


def _evaluate_proxy(recommender: Recommender, sample: ProxySample, cutoff: int) -> EvaluationReport:
    """Genre precision@k over the sampled movies, coverage, and typo resolution."""
    per_query: list[float] = []
    recommended: set[int] = set()
    for movie_id in progress(sample.movie_ids, total=len(sample.movie_ids), desc="evaluate"):
        if movie_id not in recommender.row_of_id:
            per_query.append(0.0)
            continue
        result = recommender.recommend(movie_id=movie_id, k=cutoff)
        wanted = set(recommender.movie(recommender.row_of_id[movie_id])["genres"])
        recommended.update(item.id for item in result.recommendations)
        per_query.append(sum(bool(wanted & set(item.genres)) for item in result.recommendations) / cutoff)
    resolved = 0
    for text, original in sample.typos:
        found = recommender.titles.lookup(text)
        resolved += bool(found and normalise_title(recommender.model.titles_[found.rows[0]]) == original)
    score_name = f"genre_precision@{cutoff}"
    metrics = {
        score_name: float(np.mean(per_query)) if per_query else 0.0,
        "coverage": len(recommended) / max(1, len(recommender)),
        "title_resolution": resolved / len(sample.typos) if sample.typos else 0.0,
    }
    return EvaluationReport("proxy", score_name, metrics[score_name], metrics, len(per_query), per_query)


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


@dataclass(frozen=True)
class ResolutionScores:
    """How well typed queries resolve, against labels (`tests/data/resolution_set.json`).

    Title resolution: of the queries resolved to a title, the share resolved to a right one
    (precision), and of the queries that mean a catalogue movie, the share resolved to it
    (recall). Cold-start detection: the same for queries that mean no catalogue movie.
    """

    title_precision: float
    title_recall: float
    cold_precision: float
    cold_recall: float
    wrong: list[tuple[str, str, str | None]]  # (category, query, what it resolved to)


def resolution_scores(index: TitleIndex, titles: Sequence[str], ids: Sequence[int], cases: list[dict[str, Any]]) -> ResolutionScores:
    resolved_right = resolved = meant = cold_right = called_cold = meant_cold = 0
    wrong = []
    for case in cases:
        found = index.lookup(case["query"])
        expected = set(case["expected"])
        got = ids[found.rows[0]] if found is not None else None
        meant += bool(expected)
        meant_cold += not expected
        resolved += got is not None
        called_cold += got is None
        if got is not None and got in expected:
            resolved_right += 1
        elif got is None and not expected:
            cold_right += 1
        else:
            wrong.append((case["category"], case["query"], titles[found.rows[0]] if found is not None else None))
    return ResolutionScores(
        title_precision=resolved_right / resolved if resolved else 1.0,
        title_recall=resolved_right / meant if meant else 1.0,
        cold_precision=cold_right / called_cold if called_cold else 1.0,
        cold_recall=cold_right / meant_cold if meant_cold else 1.0,
        wrong=wrong,
    )
