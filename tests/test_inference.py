"""The library's recommend(): resolution paths, filters, reasons and refused inputs."""

from __future__ import annotations

import numpy as np
import pytest

from movie_r.answering.inference import Filters, Recommender
from movie_r.errors import QueryError, UnknownMovieError


def ids(result) -> list[int]:
    return [item.id for item in result.recommendations]


def test_exact_title_answers_from_precomputed_neighbours(small_recommender: Recommender) -> None:
    result = small_recommender.recommend("toy story", k=3)
    assert result.match.method == "exact"
    assert result.match.id == 1
    assert not result.cold_start
    assert ids(result)[0] == 2
    assert 1 not in ids(result)


def test_reasons_name_shared_genres_and_terms(small_recommender: Recommender) -> None:
    first = small_recommender.recommend("Toy Story", k=1).recommendations[0]
    assert "shares genres: Animation, Children, Comedy" in first.reasons
    assert any(reason.startswith("shares terms:") and "toy" in reason for reason in first.reasons)


def test_typo_answers_by_fuzzy_match(small_recommender: Recommender) -> None:
    result = small_recommender.recommend("Shawshank Redemtion", k=2)
    assert (result.match.method, result.match.id, result.cold_start) == ("fuzzy", 3, False)


def test_unknown_title_is_a_cold_start_text_query(small_recommender: Recommender) -> None:
    result = small_recommender.recommend("space adventure with robots", k=3)
    assert result.cold_start
    assert result.match.method == "text"
    assert set(ids(result)) & {6, 7}
    assert all(item.score > 0 for item in result.recommendations)


def test_text_with_no_known_word_falls_back_to_popularity(small_recommender: Recommender) -> None:
    result = small_recommender.recommend("qwzx vbnm", k=3)
    assert result.cold_start
    assert result.match.method == "popular"
    assert ids(result) == [3, 4, 1]


def test_same_titled_movies_pick_the_most_popular_and_list_the_others(small_recommender: Recommender) -> None:
    result = small_recommender.recommend("Hamlet", k=2)
    assert result.match.id == 8
    assert result.alternatives == [{"id": 9, "title": "Hamlet", "year": 2000}]


def test_by_id_and_unknown_id(small_recommender: Recommender) -> None:
    assert small_recommender.recommend(movie_id=4, k=2).match.title == "Dark Knight, The"
    with pytest.raises(UnknownMovieError):
        small_recommender.recommend(movie_id=404, k=2)


def test_filters_apply_even_beyond_the_precomputed_neighbours(small_recommender: Recommender) -> None:
    result = small_recommender.recommend("Toy Story", k=3, filters=Filters(genre="romance", year_min=2000))
    assert ids(result)  # only 5 neighbours were kept; the filter reaches the whole catalogue
    assert all("Romance" in item.genres and item.year >= 2000 for item in result.recommendations)
    excluded = small_recommender.recommend("Toy Story", k=3, filters=Filters(exclude=frozenset({2})))
    assert 2 not in ids(excluded)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"query": "x" * 201}, "movie"),
        ({"query": "toy\x00story"}, "movie"),
        ({"query": "   "}, "movie"),
        ({"query": "Heat", "k": 0}, "k"),
        ({"query": "Heat", "k": 101}, "k"),
        ({}, "movie"),
        ({"query": "Heat", "movie_id": 11}, "movie"),
    ],
)
def test_unusable_requests_name_their_parameter(small_recommender: Recommender, kwargs: dict, parameter: str) -> None:
    with pytest.raises(QueryError) as caught:
        small_recommender.recommend(**{"k": 5, **kwargs})
    assert caught.value.parameter == parameter


@pytest.mark.parametrize("text", ["space adventure with robots", "ROBOT robot love, in SPACE!", "qwzx", "toy story 2"])
def test_the_fast_query_vector_equals_the_pipeline_transform(small_recommender: Recommender, text: str) -> None:
    import math

    from movie_r.recommenders.features import QueryVectorizer

    expected = small_recommender.pipeline[:-1].transform(
        {"title": [""], "genres": [()], "overview": [text], "year": [math.nan]}
    )
    columns, values = QueryVectorizer(small_recommender.pipeline)(text)
    fast = np.zeros(expected.shape[1])
    fast[columns] = values
    assert list(columns) == sorted(columns)
    assert np.abs(fast - expected.toarray()[0]).max() < 1e-6


def test_text_cold_starts_return_k_movies(small_recommender) -> None:
    """A few words often match one title: the answer continues with movies like it, then popular ones."""
    for text, k in [("lonely cowboy", 5), ("prison banker", 3), ("collector stolen", 8)]:
        answer = small_recommender.recommend(text, k=k)
        assert answer.cold_start and answer.match.method == "text"
        assert len(answer.recommendations) == k, text
        assert len({item.id for item in answer.recommendations}) == k
        scores = [item.score for item in answer.recommendations]
        assert scores == sorted(scores, reverse=True) or any("popular" in r for item in answer.recommendations for r in item.reasons)
