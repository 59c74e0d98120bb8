"""Bringing your own catalogue: the embedded ratings never meet it, and zero ratings train every kind."""

from __future__ import annotations

import pandas as pd
import pytest

from movie_r.answering.inference import Recommender
from movie_r.data.loading import load_catalog, load_interactions
from movie_r.recommenders.kinds import GRIDS, KINDS
from movie_r.recommenders.pipeline import build_pipeline, fit_pipeline
from movie_r.settings import Settings, default_catalog

from .conftest import write_csv
from .test_cli import movie_r


def test_the_embedded_ratings_go_with_the_embedded_catalogue_only(tmp_path, monkeypatch) -> None:
    for name in ("MOVIE_R_CATALOG", "MOVIE_R_INTERACTIONS"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().interactions is not None and Settings().catalog == default_catalog()
    assert Settings(catalog=tmp_path / "mine.csv").interactions is None
    monkeypatch.setenv("MOVIE_R_CATALOG", str(tmp_path / "mine.csv"))
    assert Settings().interactions is None
    monkeypatch.setenv("MOVIE_R_INTERACTIONS", str(tmp_path / "mine-ratings.csv"))
    assert Settings().interactions == tmp_path / "mine-ratings.csv"
    monkeypatch.setenv("MOVIE_R_INTERACTIONS", "")
    assert Settings().interactions is None


def test_train_on_a_user_catalogue_without_flags_trains_content_only(tmp_path, catalog_path) -> None:
    home = tmp_path / "home"
    trained = movie_r("train", "--catalog", str(catalog_path), home=home)
    assert trained.returncode == 0, trained.stderr
    assert "(tfidf) champion" in trained.stdout and "genre_precision@10" in trained.stdout
    assert "ratings.csv.gz" not in trained.stdout + trained.stderr


def test_an_empty_interactions_flag_means_none(tmp_path, catalog_path) -> None:
    trained = movie_r("train", "--catalog", str(catalog_path), "--interactions", "", home=tmp_path / "home")
    assert trained.returncode == 0, trained.stderr
    assert "genre_precision@10" in trained.stdout


def test_given_ratings_are_used_with_a_user_catalogue(tmp_path, catalog_path) -> None:
    ratings = write_csv(tmp_path / "r.csv", ["userId", "movieId", "rating"], [(u, m, 5) for u in range(1, 30) for m in (1, 2, 5)])
    trained = movie_r(
        "train", "--catalog", str(catalog_path), "--interactions", str(ratings), "--model", "itemknn", home=tmp_path / "h"
    )
    assert trained.returncode == 0, trained.stderr
    assert "ndcg@10" in trained.stdout


NO_RATINGS = [
    None,
    pd.DataFrame({"user_id": pd.Series(dtype=str), "movie_id": pd.Series(dtype="int64"), "rating": pd.Series(dtype=float)}),
]


@pytest.mark.parametrize("ratings", NO_RATINGS, ids=["none", "no timestamp column"])
@pytest.mark.parametrize("kind,params", [(kind, params) for kind in KINDS for params in GRIDS[kind]])
def test_every_kind_fits_and_answers_with_zero_ratings(kind: str, params: dict, ratings, catalog_path) -> None:
    catalog = load_catalog(catalog_path)
    pipeline = fit_pipeline(build_pipeline(kind, {"recommender__n_neighbors": 5, **params}), catalog.movies, ratings)
    result = Recommender(pipeline).recommend("Toy Story", k=3)
    assert result.match.id == 1 and len(result.recommendations) == 3


def test_a_header_only_ratings_file_trains_every_kind(tmp_path, catalog_path) -> None:
    catalog = load_catalog(catalog_path)
    empty = load_interactions(write_csv(tmp_path / "r.csv", ["user_id", "movie_id", "rating", "timestamp"], []), catalog)
    for kind in KINDS:
        pipeline = fit_pipeline(build_pipeline(kind, {"recommender__n_neighbors": 5}), catalog.movies, empty.ratings)
        assert Recommender(pipeline).recommend(movie_id=3, k=2).recommendations


@pytest.mark.parametrize(
    "content,expected",
    [
        ("id,title,genre\n", "0 usable movies; at least 2 are needed"),
        ("id,title,genre\n1,Heat,Action\n", "1 usable movies; at least 2 are needed"),
        ("id;title;genre\n1;Heat, the remake;Action\n2;Up;Animation\n", "separated by semicolons"),
    ],
    ids=["header only", "one row", "semicolons"],
)
def test_files_in_another_shape_fail_in_one_line_and_write_nothing(tmp_path, content: str, expected: str) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(content)
    home = tmp_path / "home"
    result = movie_r("train", "--catalog", str(path), home=home)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("movie-r: error: ")]
    assert len(errors) == 1 and expected in errors[0] and "Traceback" not in result.stderr
    assert not (home / "models").exists()


MOVIELENS = [
    (1, "Space Llamas (1999)", "Comedy|Sci-Fi"),
    (2, "City of Knives (2004)", "Crime|Thriller"),
    (3, "The Quiet Orchard (1987)", "Drama"),
    (4, "Orbit Station (2012)", "Sci-Fi"),
    (5, "(1999)", "Drama"),  # a title that is only a year stays one
    (6, "Midnight Harbour (2001)", "Crime|Drama"),
]


def test_a_movielens_title_loses_the_year_it_became(tmp_path) -> None:
    catalog = load_catalog(write_csv(tmp_path / "movies.csv", ["movieId", "title", "genres"], MOVIELENS))
    first = catalog.movies.iloc[0]
    assert (first["title"], first["year"]) == ("Space Llamas", 1999)
    assert catalog.movies["title"].iloc[4] == "(1999)"


def test_a_title_keeps_its_parentheses_when_a_year_column_gives_the_year(tmp_path) -> None:
    rows = [(1, "Space Llamas (1999)", "Comedy", 2001), (2, "Orbit Station", "Sci-Fi", 2012)]
    catalog = load_catalog(write_csv(tmp_path / "movies.csv", ["id", "title", "genre", "year"], rows))
    assert catalog.movies["title"].iloc[0] == "Space Llamas (1999)"


def test_popular_answers_come_from_the_ratings_when_the_catalogue_has_no_popularity(tmp_path) -> None:
    from movie_r.lifecycle.fitting import load_training_data

    movies = write_csv(tmp_path / "movies.csv", ["movieId", "title", "genres"], MOVIELENS)
    # movie 4 is the most rated, then 6; nobody rated 1
    rows = [(u, 4, 4.0) for u in range(25)] + [(u, 6, 3.0) for u in range(10)] + [(u, 2, 5.0) for u in range(3)]
    ratings = write_csv(tmp_path / "ratings.csv", ["userId", "movieId", "rating"], rows)
    data = load_training_data(movies, ratings)
    pipeline = fit_pipeline(build_pipeline("tfidf", {"recommender__n_neighbors": 3}), data.catalog.movies)
    answer = Recommender(pipeline, "v").recommend("qwzx vbnm", k=3)
    assert answer.match.method == "popular"
    assert [item.id for item in answer.recommendations] == [4, 6, 2]
    assert answer.recommendations[0].score == 1.0


def test_unrated_movies_keep_the_catalogues_own_order_below_the_rated(tmp_path) -> None:
    from movie_r.lifecycle.fitting import load_training_data

    rows = [(1, "Alpha", "Drama", 10.0), (2, "Beta", "Drama", 90.0), (3, "Gamma", "Drama", 50.0), (4, "Delta", "Drama", 1.0)]
    movies = write_csv(tmp_path / "movies.csv", ["id", "title", "genre", "popularity"], rows)
    ratings = write_csv(tmp_path / "ratings.csv", ["user_id", "movie_id", "rating"], [("u", 4, 5.0), ("v", 4, 4.0)])
    popularity = load_training_data(movies, ratings).catalog.movies.set_index("id")["popularity"]
    assert list(popularity.sort_values(ascending=False).index) == [4, 2, 3, 1]
