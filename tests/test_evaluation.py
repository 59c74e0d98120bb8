"""Evaluation: metric arithmetic, the time-aware split, and proxy metrics without ratings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from movie_r.data.loading import load_catalog
from movie_r.lifecycle.evaluation import HISTORY_KEPT, Query, evaluate, proxy_sample, ranking_metrics, split_interactions


def test_ranking_metrics_match_hand_computed_values() -> None:
    metrics = ranking_metrics([10, 20, 30, 40], frozenset({20, 40, 99}), cutoff=4)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics["ndcg@4"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / idcg)
    assert metrics["map@4"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert metrics["recall@4"] == pytest.approx(2 / 3)
    assert metrics["hitrate@4"] == 1.0
    assert metrics["mrr"] == 0.5


def test_a_list_without_hits_scores_zero() -> None:
    assert set(ranking_metrics([1, 2], frozenset({3}), cutoff=2).values()) == {0.0}


def ratings(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def test_split_holds_out_the_latest_positives_and_nothing_after_them_trains() -> None:
    frame = ratings(
        [
            ("u", 1, 5, 1), ("u", 2, 2, 2), ("u", 3, 4, 3), ("u", 4, 5, 4), ("u", 5, 1, 5),
            ("u", 6, 4, 6), ("u", 7, 5, 7), ("u", 8, 4, 8),
        ]
    )  # fmt: skip
    split = split_interactions(frame)
    [query] = split.queries
    # 6 positives -> ceil(1.2) = 2 test positives: movies 7 and 8; cutoff at t=7
    assert query.relevant == {7, 8}
    assert query.movie_id == 6
    assert set(split.train["movie_id"]) == {1, 2, 3, 4, 5, 6}
    assert query.seen == {1, 2, 3, 4, 5, 6}


def _split_per_user(frame: pd.DataFrame, test_fraction: float = 0.2) -> tuple[pd.DataFrame, list[Query]]:
    """The split as its definition reads, one user at a time: the reference for the vectorised one."""
    ordered = frame.sort_values(["user_id", "timestamp"], kind="stable")
    train_parts, queries = [], []
    for user_id, rows in ordered.groupby("user_id", sort=True):
        positives = rows[rows["rating"] >= 4]
        n_test = math.ceil(len(positives) * test_fraction)
        if len(positives) < 2 or n_test >= len(positives):
            train_parts.append(rows)
            continue
        cutoff = positives["timestamp"].iloc[len(positives) - n_test]
        before = rows[rows["timestamp"] < cutoff]
        train_parts.append(before)
        earlier = before[before["rating"] >= 4]
        if not earlier.empty:
            queries.append(
                Query(
                    str(user_id),
                    int(earlier["movie_id"].iloc[-1]),
                    frozenset(positives.loc[positives["timestamp"] >= cutoff, "movie_id"].astype(int)),
                    frozenset(before["movie_id"].astype(int)),
                    tuple(earlier["movie_id"].astype(int).iloc[-HISTORY_KEPT:]),
                )
            )
    return pd.concat(train_parts, ignore_index=True), queries


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_vectorised_split_equals_the_split_user_by_user(seed: int) -> None:
    """Ties in time, users with 0, 1 or many positives, ids that sort differently as text."""
    rng = np.random.default_rng(seed)
    n = 3000
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, 300, n).astype(str),
            "movie_id": rng.integers(1, 200, n),
            "rating": rng.choice([1.0, 2.5, 3.5, 4.0, 4.5, 5.0], n),
            "timestamp": rng.integers(0, 50, n).astype(float),
        }
    )
    expected_train, expected_queries = _split_per_user(frame)
    split = split_interactions(frame)
    assert split.queries == expected_queries
    pd.testing.assert_frame_equal(split.train.reset_index(drop=True), expected_train, check_dtype=False)


def test_users_with_one_positive_give_no_query() -> None:
    assert split_interactions(ratings([("u", 1, 5, 1), ("u", 2, 1, 2)])).queries == []


def test_interactions_protocol_scores_a_model_that_finds_the_held_out_movie(small_recommender) -> None:
    # each user liked Toy Story, then Toy Story 2: the content model must find the sequel
    frame = ratings([(f"u{i}", movie, 5, t) for i in range(3) for t, movie in enumerate([1, 2])])
    report = evaluate(small_recommender, split_interactions(frame))
    assert report.protocol == "interactions"
    assert report.score_name == "ndcg@10"
    assert report.score == 1.0
    assert report.n_queries == 3
    assert report.per_query == [1.0, 1.0, 1.0]


def test_evaluation_ranks_what_the_recommender_answers(small_recommender) -> None:
    from movie_r.answering.inference import Filters

    for movie_id in small_recommender.model.ids_.tolist():
        for filters in (Filters(), Filters(exclude=frozenset({2, 3})), Filters(novelty=0.5)):
            answered = small_recommender.recommend(movie_id=movie_id, k=3, filters=filters).recommendations
            assert small_recommender.similar_ids(movie_id, 3, filters) == [item.id for item in answered]


def test_queries_about_movies_a_model_does_not_know_score_zero(small_recommender) -> None:
    frame = ratings([("u", 1, 5, 1), ("u", 2, 5, 2), ("v", 404, 5, 1), ("v", 2, 5, 2)])
    report = evaluate(small_recommender, split_interactions(frame))
    assert report.n_queries == 2
    assert report.per_query == [1.0, 0.0]


def test_without_interactions_proxy_metrics_are_reported(small_recommender, catalog_path) -> None:
    report = evaluate(small_recommender, proxy_sample(load_catalog(catalog_path).movies))
    assert report.protocol == "proxy"
    assert report.score_name == "genre_precision@10"
    assert 0 < report.score <= 1
    assert set(report.metrics) == {"genre_precision@10", "coverage", "title_resolution"}
    assert 0 <= report.metrics["title_resolution"] <= 1


def test_the_split_keeps_a_fixed_sample_of_queries_when_users_give_more() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(200), 5).astype(str),
            "movie_id": rng.integers(1, 50, 1000),
            "rating": 5.0,
            "timestamp": np.tile(np.arange(5.0), 200),
        }
    )
    everyone = split_interactions(frame).queries
    sampled = split_interactions(frame, max_queries=50).queries
    assert len(everyone) == 200 and len(sampled) == 50
    assert set(sampled) <= set(everyone) and sampled == split_interactions(frame, max_queries=50).queries
    assert len(split_interactions(frame, max_queries=50).train) == len(split_interactions(frame).train)
