"""What people type that is not a title, on the default catalogue: spelt as it sounds,
described by genre words, or naming a movie as its model."""

from __future__ import annotations

import pytest

from movie_r.answering.inference import Recommender
from movie_r.data.loading import load_catalog
from movie_r.recommenders.pipeline import build_pipeline, fit_pipeline
from movie_r.settings import Settings


@pytest.fixture(scope="module")
def default_recommender() -> Recommender:
    movies = load_catalog(Settings().catalog).movies
    return Recommender(fit_pipeline(build_pipeline("tfidf", {"recommender__n_neighbors": 20}), movies), "test")


def test_a_title_spelt_as_it_sounds_resolves(default_recommender: Recommender) -> None:
    for typed, meant in [("incepshun", "Inception"), ("fite club", "Fight Club")]:
        answer = default_recommender.recommend(typed, k=3)
        assert (answer.match.method, answer.match.title) == ("fuzzy", meant)


def test_genre_words_describe_genres(default_recommender: Recommender) -> None:
    answer = default_recommender.recommend("funny animated movie for kids about toys", k=5)
    assert answer.cold_start and answer.match.method == "text"
    looks_right = [item for item in answer.recommendations if {"Animation", "Children"} & set(item.genres)]
    assert len(looks_right) >= 4, [(item.title, item.genres) for item in answer.recommendations]
    assert "Kids" not in [item.title for item in answer.recommendations]  # a title word alone is not the genre


def test_a_description_naming_a_movie_starts_from_it(default_recommender: Recommender) -> None:
    answer = default_recommender.recommend("something like inception but funny", k=5)
    assert answer.cold_start and answer.match.title == "Inception"
    assert "Inception" not in [item.title for item in answer.recommendations]
    assert all(item.reasons[0].startswith("like Inception") for item in answer.recommendations)
    assert sum("Comedy" in item.genres for item in answer.recommendations) >= 3  # "but funny" re-ranks


def test_a_title_word_without_a_cue_names_no_model(default_recommender: Recommender) -> None:
    assert default_recommender.titles.named_after_cue("funny movie for kids") is None
    assert default_recommender.titles.named_after_cue("a film similar to the matrix") is not None
