"""Catalogue and interactions ingestion: real shapes load, bad files are refused precisely."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from movie_r.data.loading import load_catalog, load_interactions, parse_genres
from movie_r.errors import DataError

from .conftest import write_csv

TMDB_HEADER = "id,title,genre,original_language,overview,popularity,release_date,vote_average,vote_count"
TMDB_ROW = '278,The Shawshank Redemption,"Drama,Crime",en,"Framed in the 1940s for the double murder of his wife and her lover.",94.075,1994-09-23,8.7,21862'


def test_tmdb_shape_loads_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "tmdb.csv"
    path.write_text(f"{TMDB_HEADER}\n{TMDB_ROW}\n", encoding="utf-8")
    movie = load_catalog(path).movies.iloc[0]
    assert movie["id"] == 278
    assert movie["genres"] == ("Drama", "Crime")
    assert movie["year"] == 1994
    assert movie["popularity"] == pytest.approx(94.075)
    assert movie["vote_count"] == 21862
    assert movie["original_language"] == "en"
    assert movie["overview"].startswith("Framed in the 1940s")


def test_movielens_shape_loads_with_pipe_genres(tmp_path: Path) -> None:
    path = tmp_path / "ml.csv"
    path.write_text("id,title,genre,year\n1,Toy Story,Adventure|Animation|Children,1995\n", encoding="utf-8")
    catalog = load_catalog(path)
    movie = catalog.movies.iloc[0]
    assert movie["genres"] == ("Adventure", "Animation", "Children")
    assert movie["overview"] == ""
    assert catalog.warnings == []  # no overview column: a shape, not rows with a gap


def test_gzip_catalogue_loads(tmp_path: Path) -> None:
    path = tmp_path / "ml.csv.gz"
    path.write_bytes(gzip.compress(b"id,title,genre\n1,Heat,Action\n"))
    assert load_catalog(path).movies["title"].tolist() == ["Heat"]


def test_incomplete_rows_are_accepted_with_counted_warnings(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["id", "title", "genre", "overview"], [(1, "A", "", ""), (2, "B", "Drama", "")])
    warnings = load_catalog(path).warnings
    assert warnings == ["1 movies have no genre", "2 movies have no overview"]


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["id", "title"], [(1, "A")])
    with pytest.raises(DataError, match=r"c\.csv: missing column\(s\) genre"):
        load_catalog(path)


def test_every_unusable_row_is_named(tmp_path: Path) -> None:
    rows = [(1, "A", "Drama"), (1, "B", "Drama"), ("", "C", "Drama"), (4, " ", "Drama"), (5, "E", "Drama")]
    path = write_csv(tmp_path / "c.csv", ["id", "title", "genre"], rows)
    with pytest.raises(DataError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert "3 unusable rows" in message
    assert "row 3 (column id: duplicate id 1)" in message
    assert "row 4 (column id: empty id)" in message
    assert "row 5 (column title: empty title)" in message


def test_skip_invalid_drops_unusable_rows_with_a_warning(tmp_path: Path) -> None:
    rows = [(1, "A", "Drama"), (1, "B", "Drama"), (3, "C", "Drama")]
    catalog = load_catalog(write_csv(tmp_path / "c.csv", ["id", "title", "genre"], rows), skip_invalid=True)
    assert catalog.movies["id"].tolist() == [1, 3]
    assert catalog.warnings[0].startswith("skipped 1 unusable rows: row 3")


def test_unparsable_number_names_row_and_column(tmp_path: Path) -> None:
    rows = [(1, "A", "Drama", "12.5"), (2, "B", "Drama", "lots")]
    path = write_csv(tmp_path / "c.csv", ["id", "title", "genre", "popularity"], rows)
    with pytest.raises(DataError, match=r"c\.csv: row 3, column popularity: 'lots' is not a number"):
        load_catalog(path)


def test_non_integer_id_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["id", "title", "genre"], [("tt01", "A", "Drama")])
    with pytest.raises(DataError, match=r"row 2, column id: 'tt01' is not an integer"):
        load_catalog(path)


def test_wrong_encoding_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,title,genre\n1,Heat,Action\n2,Amélie,Comedy\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.csv: row 3, column title: not UTF-8"):
        load_catalog(path)


def test_ragged_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,title,genre\n1,Heat,Action\n2,Up,Animation,Comedy\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"row 3: 4 fields where the header has 3"):
        load_catalog(path)


def test_bad_release_date_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ["id", "title", "genre", "release_date"], [(1, "A", "Drama", "soon")])
    with pytest.raises(DataError, match=r"row 2, column release_date"):
        load_catalog(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_catalog(tmp_path / "nope.csv")


def test_genres_split_on_pipes_and_commas() -> None:
    assert parse_genres("Action| Sci-Fi ,Drama") == ("Action", "Sci-Fi", "Drama")
    assert parse_genres("(no genres listed)") == ()


def test_interactions_load_with_iso_or_epoch_timestamps(tmp_path: Path, catalog_path: Path) -> None:
    catalog = load_catalog(catalog_path)
    rows = [("u1", 1, 4.5, "1260759144"), ("u1", 2, 3, "2020-01-02T03:04:05Z")]
    interactions = load_interactions(write_csv(tmp_path / "r.csv", ["user_id", "movie_id", "rating", "timestamp"], rows), catalog)
    assert interactions.ratings["timestamp"].tolist() == [1260759144.0, 1577934245.0]


def test_interactions_with_unknown_movies_are_refused_with_their_count(tmp_path: Path, catalog_path: Path) -> None:
    catalog = load_catalog(catalog_path)
    path = write_csv(tmp_path / "r.csv", ["user_id", "movie_id", "rating"], [(1, 1, 5), (1, 999, 4), (2, 998, 3)])
    with pytest.raises(DataError, match=r"2 ratings name movies missing from the catalogue \(first: row 3, column movie_id, id 999\)"):
        load_interactions(path, catalog)
    skipped = load_interactions(path, catalog, skip_unknown=True)
    assert len(skipped) == 1
    assert skipped.warnings[0].startswith("skipped 2 ratings")


def test_unparsable_rating_names_row_and_column(tmp_path: Path, catalog_path: Path) -> None:
    catalog = load_catalog(catalog_path)
    path = write_csv(tmp_path / "r.csv", ["user_id", "movie_id", "rating"], [(1, 1, "five")])
    with pytest.raises(DataError, match=r"row 2, column rating: 'five' is not a number"):
        load_interactions(path, catalog)


def test_gaps_are_said_once_when_a_version_is_trained_not_at_every_load(tmp_path: Path, caplog) -> None:
    import logging

    from movie_r.lifecycle.fitting import load_training_data
    from movie_r.lifecycle.training import train
    from movie_r.settings import Settings

    rows = [(1, "Heat", "Crime", ""), (2, "Alien", "Horror", "A crew meets a creature."), (3, "Up", "", "A house flies.")]
    path = write_csv(tmp_path / "c.csv", ["id", "title", "genre", "overview"], rows)
    with caplog.at_level(logging.INFO):
        for _ in range(3):  # the agent loads the catalogue on every tick
            load_catalog(path)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    caplog.clear()
    settings = Settings(home=tmp_path / "home", catalog=path, interactions=None, neighbours=2)
    with caplog.at_level(logging.WARNING):
        train(settings, load_training_data(path, None), "tfidf")
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "have no" in r.getMessage()]
    assert len(said) == 2 and "1 movies have no overview" in said[0] + said[1] and "1 movies have no genre" in said[0] + said[1]


def test_the_embedded_catalogue_has_no_overview_gap() -> None:
    from movie_r.settings import default_catalog

    assert not [gap for gap in load_catalog(default_catalog()).gaps if "overview" in gap]
