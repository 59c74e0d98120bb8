"""Answers from a history: weights, the combination of the seeds' lists, reasons, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from movie_r.answering.history import (
    MAX_SEEDS,
    MIXING,
    Seed,
    because,
    combine,
    history_ids,
    recommend_from_history,
    seed_weights,
)
from movie_r.answering.inference import Filters, Recommender
from movie_r.errors import QueryError

START = datetime(2024, 1, 1, tzinfo=UTC)


def test_recent_and_higher_rated_seeds_weigh_more() -> None:
    weights = seed_weights([Seed(movie="a"), Seed(movie="b"), Seed(movie="c")])
    assert weights.tolist() == pytest.approx([MIXING.recency**2, MIXING.recency, 1.0])
    rated = seed_weights([Seed(movie="a", rating=5.0), Seed(movie="b", rating=2.5)])
    assert rated.tolist() == pytest.approx([MIXING.recency, 0.5])


def test_times_order_the_seeds_only_when_every_seed_has_one() -> None:
    timed = [Seed(movie="late", at=START + timedelta(days=2)), Seed(movie="early", at=START)]
    assert seed_weights(timed).tolist() == pytest.approx([1.0, MIXING.recency])  # the later one weighs fully, wherever it is sent
    half_timed = [Seed(movie="late", at=START + timedelta(days=2)), Seed(movie="early")]
    assert seed_weights(half_timed).tolist() == pytest.approx([MIXING.recency, 1.0])  # the order given stands


def test_a_movie_near_several_seeds_rises_above_one_near_a_single_seed() -> None:
    neighbours = np.array([[5, 6, 7], [6, 8, 9]])
    scores = np.array([[1.0, 0.9, 0.8], [1.0, 0.95, 0.0]])  # 0: no entry (row 9 is not in the second list)
    found = combine(neighbours, scores, np.array([1.0, 1.0]), 10, excluded=np.array([], dtype=np.int64))
    assert found.rows[0] == 6 and found.sources[0] == [1, 0]  # seed 1 gave it its best score
    assert 9 not in found.rows.tolist()
    assert found.scores[0] == pytest.approx((0.9 + 1.0) / 2)
    assert list(found.scores) == sorted(found.scores, reverse=True)


def test_excluded_and_filtered_rows_are_never_answered_and_ties_go_to_the_lower_row() -> None:
    neighbours = np.array([[3, 2, 1, 4]])
    scores = np.array([[1.0, 1.0, 1.0, 0.5]])
    found = combine(neighbours, scores, np.array([1.0]), 10, excluded=np.array([2]), allowed=lambda rows: rows != 4)
    assert found.rows.tolist() == [1, 3]


def test_because_names_the_strongest_seeds_first() -> None:
    assert because(["A"]) == "because you liked A"
    assert because(["A", "C"]) == "because you liked A and C"
    assert because(["A", "B", "C"]) == "because you liked A, B and C"
    assert because(["A", "B", "C", "D", "E"]) == "because you liked A, B, C and 2 more"


def test_a_history_excludes_its_seeds_and_reports_what_did_not_resolve(small_recommender: Recommender) -> None:
    result = recommend_from_history(small_recommender, [Seed(movie="toy story"), Seed(movie="qqzzx vvwq"), Seed(movie_id=6)], k=4)
    assert result.method == "history" and not result.cold_start
    assert result.unresolved == ["qqzzx vvwq"]
    assert [seed.match.id if seed.match else None for seed in result.seeds] == [1, None, 6]
    assert result.seeds[1].weight == 0.0 and result.seeds[2].weight == 1.0  # recency counts among resolved seeds
    ids = [item.id for item in result.recommendations]
    assert len(ids) == 4 and not {1, 6} & set(ids)
    assert all(item.reasons[0].startswith("because you liked ") for item in result.recommendations)
    cited = {title for item in result.recommendations for title in ("Toy Story", "WALL·E") if title in item.reasons[0]}
    assert cited == {"Toy Story", "WALL·E"}


def test_one_seed_answers_as_the_single_movie_does(small_recommender: Recommender) -> None:
    for movie_id in (1, 4, 6, 10):
        seen = frozenset({movie_id, 3})
        single = small_recommender.similar_ids(movie_id, 5, Filters(exclude=seen))
        assert history_ids(small_recommender, [movie_id], 5, Filters(exclude=seen)) == single


def test_filters_hold_and_the_answer_is_topped_up_to_k(small_recommender: Recommender) -> None:
    # the small model keeps 5 neighbours per movie: Comedy alone leaves fewer than 4 of them
    result = recommend_from_history(small_recommender, [Seed(movie_id=3), Seed(movie_id=4)], k=4, filters=Filters(genre="Comedy"))
    assert len(result.recommendations) == 4
    assert all("Comedy" in item.genres for item in result.recommendations)
    assert not {3, 4} & {item.id for item in result.recommendations}


def test_no_seed_resolving_is_the_cold_start_of_the_latest_words(small_recommender: Recommender) -> None:
    result = recommend_from_history(small_recommender, [Seed(movie_id=999), Seed(movie="lonely robot in space")], k=3)
    assert result.cold_start and result.method == "text"
    assert result.unresolved == ["999", "lonely robot in space"]
    assert result.recommendations[0].title == "WALL·E"
    nothing = recommend_from_history(small_recommender, [Seed(movie_id=998), Seed(movie_id=999)], k=3)
    assert nothing.cold_start and nothing.method == "popular" and len(nothing.recommendations) == 3


@pytest.mark.parametrize(
    ("seeds", "k", "filters", "parameter"),
    [
        ([], 10, Filters(), "history"),
        ([Seed(movie="toy story")] * (MAX_SEEDS + 1), 10, Filters(), "history"),
        ([Seed(movie="toy story"), Seed(movie="  ")], 10, Filters(), "history"),
        ([Seed(movie="toy story"), Seed(movie="alien", movie_id=10)], 10, Filters(), "history"),
        ([Seed(movie="toy story")], 0, Filters(), "k"),
        ([Seed(movie="toy story")], 10, Filters(novelty=0.5), "novelty"),
        ([Seed(movie="toy story")], 10, Filters(genre="Polka"), "genre"),
    ],
)
def test_unusable_histories_are_refused_naming_the_parameter(
    small_recommender: Recommender, seeds: list[Seed], k: int, filters: Filters, parameter: str
) -> None:
    with pytest.raises(QueryError) as refused:
        recommend_from_history(small_recommender, seeds, k, filters)
    assert refused.value.parameter == parameter


def test_evaluation_weighs_a_history_as_the_service_does(small_recommender: Recommender, monkeypatch) -> None:
    """An id the model does not know ages no other seed, in evaluation as in an answer."""
    import movie_r.answering.history as history

    used: list[list[float]] = []
    best = history._best
    monkeypatch.setattr(history, "_best", lambda *args, **kwargs: used.append(list(args[2])) or best(*args, **kwargs))
    served = recommend_from_history(small_recommender, [Seed(movie_id=1), Seed(movie_id=999), Seed(movie_id=10)], k=5)
    ids = history_ids(small_recommender, [1, 999, 10], 5, Filters())
    assert used[1] == pytest.approx([seed.weight for seed in served.seeds if seed.match is not None])
    assert ids == [item.id for item in served.recommendations]
