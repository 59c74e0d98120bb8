"""The shapes the README promises load unchanged; shapes it does not are refused in one line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from movie_r.data.loading import load_catalog, load_interactions
from movie_r.errors import DataError
from movie_r.lifecycle.fitting import load_training_data

from .conftest import write_csv

MOVIELENS_MOVIES = """movieId,title,genres
1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy
2,Jumanji (1995),Adventure|Children|Fantasy
3,"American President, The (1995)",Comedy|Drama|Romance
4,Heat,(no genres listed)
"""
MOVIELENS_RATINGS = """userId,movieId,rating,timestamp
1,1,4.0,964982703
1,3,4.0,964981247
2,2,3.5,964982224
"""


def test_movielens_movies_csv_loads_unchanged_with_years_from_titles(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "movies.csv"
    path.write_text(MOVIELENS_MOVIES)
    with caplog.at_level(logging.INFO, logger="movie_r"):
        movies = load_catalog(path).movies
    assert movies["id"].tolist() == [1, 2, 3, 4]
    assert movies["genres"][0] == ("Adventure", "Animation", "Children", "Comedy", "Fantasy")
    assert movies["genres"][3] == ()
    assert movies["year"].tolist()[:3] == [1995.0, 1995.0, 1995.0] and movies["year"].isna()[3]
    assert "id<-movieId, genre<-genres" in caplog.text


def test_movielens_ratings_csv_loads_unchanged(tmp_path: Path) -> None:
    (tmp_path / "movies.csv").write_text(MOVIELENS_MOVIES)
    (tmp_path / "ratings.csv").write_text(MOVIELENS_RATINGS)
    ratings = load_interactions(tmp_path / "ratings.csv", load_catalog(tmp_path / "movies.csv")).ratings
    assert ratings["user_id"].tolist() == ["1", "1", "2"]
    assert ratings["movie_id"].tolist() == [1, 3, 2]
    assert ratings["timestamp"].tolist()[0] == 964982703.0


def test_tmdb_genres_as_a_json_list_of_objects_load(tmp_path: Path) -> None:
    genres = json.dumps([{"id": 18, "name": "Drama"}, {"id": 80, "name": "Crime"}])
    path = write_csv(
        tmp_path / "tmdb.csv",
        ["id", "title", "genres", "release_date"],
        [(278, "The Shawshank Redemption", genres, "1994-09-23")],
    )
    movie = load_catalog(path).movies.iloc[0]
    assert movie["genres"] == ("Drama", "Crime")
    assert movie["year"] == 1994


def test_tmdb_genres_as_a_json_list_of_names_load(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tmdb.csv", ["id", "title", "genres"], [(1, "Heat", '["Action", "Crime"]'), (2, "Up", "[]")])
    assert load_catalog(path).movies["genres"].tolist() == [("Action", "Crime"), ()]


def test_two_columns_that_could_be_the_id_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "both.csv", ["id", "movieId", "title", "genre"], [(1, 2, "Heat", "Action")])
    with pytest.raises(DataError, match=r"both\.csv: columns id and movieId could both be the id"):
        load_catalog(path)


def test_errors_name_the_files_own_column(tmp_path: Path) -> None:
    path = tmp_path / "movies.csv"
    path.write_text("movieId,title,genres\n1,Heat,Action\nx7,Up,Animation\n")
    with pytest.raises(DataError, match=r"row 3, column movieId: 'x7' is not an integer"):
        load_catalog(path)


def test_a_semicolon_separated_file_names_the_missing_columns_and_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "movies.csv"
    path.write_text("id;title;genre\n1;Heat, the remake;Action\n2;Up;Animation\n")
    with pytest.raises(DataError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert "missing column(s) id (" in message and "title (title)" in message
    assert "separated by semicolons" in message and "\n" not in message


@pytest.mark.parametrize("rows", [[], [(1, "Heat", "Action")]], ids=["header only", "one movie"])
def test_a_catalogue_too_small_to_recommend_from_is_refused_in_one_line(tmp_path: Path, rows: list) -> None:
    path = write_csv(tmp_path / "tiny.csv", ["id", "title", "genre"], rows)
    with pytest.raises(DataError, match=rf"tiny\.csv: {len(rows)} usable movies; at least 2 are needed"):
        load_training_data(path, None)


def test_a_directory_given_as_a_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a directory, expected a CSV file"):
        load_catalog(tmp_path)
