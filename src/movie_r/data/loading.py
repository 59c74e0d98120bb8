"""Loading and validating the user's catalogue and interactions CSV files.

Both loaders refuse what cannot be used with a `DataError` naming the file, row and column
(rows count as in a spreadsheet: the header is row 1), and accept what is merely incomplete
with a counted warning. Nothing is written while loading, so a bad file costs nothing.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from movie_r.data.columns import (
    CATALOG_REQUIRED,
    CATALOG_ROLES,
    INTERACTIONS_REQUIRED,
    INTERACTIONS_ROLES,
    ColumnMap,
)
from movie_r.data.tables import finite_floats, read_table
from movie_r.errors import DataError
from movie_r.storage.files import file_fingerprint

log = logging.getLogger(__name__)

NO_GENRE_MARKERS = {"(no genres listed)"}
MIN_MOVIES = 2  # to train on: a recommendation is one movie for another
MAX_LISTED = 10  # offending rows named in one message before "and N more"

_YEAR = re.compile(r"^\s*(\d{4})")
_TITLE_YEAR = re.compile(r"\((\d{4})\)\s*$")
_TITLE_YEAR_SUFFIX = re.compile(r"\s*\(\d{4}\)\s*$")
_GENRE_SPLIT = re.compile(r"[|,]")


@dataclass(frozen=True)
class Catalog:
    """Validated movies, one row each, in file order.

    `movies` has columns id (int64), title, genres (tuple of str), overview, year (float,
    NaN when unknown), popularity (float, 0 when unknown) and any optional columns present.
    """

    movies: pd.DataFrame
    source: Path
    fingerprint: str
    warnings: list[str] = field(default_factory=list)  # rows skipped, then `gaps`
    gaps: list[str] = field(default_factory=list)  # what some rows lack: said once, when a version is trained on it

    def __len__(self) -> int:
        return len(self.movies)


@dataclass(frozen=True)
class Interactions:
    """Validated ratings: columns user_id (str), movie_id (int64), rating (float), timestamp (float)."""

    ratings: pd.DataFrame
    source: Path
    fingerprint: str
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ratings)


def load_catalog(path: Path | str, skip_invalid: bool = False) -> Catalog:
    """Read and validate a catalogue CSV (`id,title,genre[,overview,...]`).

    Rows without an id, with a duplicate id or without a title are refused, every one of
    them named, unless `skip_invalid` drops them with a warning instead.
    """
    path = Path(path)
    frame, columns = read_table(path, CATALOG_ROLES, CATALOG_REQUIRED)

    bad = _invalid_catalog_rows(frame, columns)
    warnings: list[str] = []
    if bad:
        described = _describe_rows(bad)
        if not skip_invalid:
            raise DataError(f"{path}: {len(bad)} unusable rows: {described} (skip them with --skip-invalid or MOVIE_R_SKIP_INVALID=1)")
        warnings.append(f"skipped {len(bad)} unusable rows: {described}")
        frame = frame.drop(index=list(bad))

    movies = pd.DataFrame(
        {
            "id": _integers(path, frame, columns, "id"),
            "title": _titles(frame),
            "genres": frame["genre"].map(parse_genres),
            "overview": frame["overview"].fillna("").str.strip() if "overview" in frame else "",
            "year": _years(path, frame, columns),
            "popularity": _numbers(path, frame, columns, "popularity").fillna(0.0) if "popularity" in frame else 0.0,
        },
        index=frame.index,
    )
    for column in ("vote_average", "vote_count"):
        if column in frame:
            movies[column] = _numbers(path, frame, columns, column)
    if "original_language" in frame:
        movies["original_language"] = frame["original_language"].fillna("").str.strip()

    for message in warnings:
        log.warning("catalog=%s %s", path, message)
    gaps = _incomplete_warnings(movies, has_overviews="overview" in frame)
    return Catalog(movies.reset_index(drop=True), path, file_fingerprint(path), warnings + gaps, gaps)


def load_interactions(path: Path | str, catalog: Catalog, skip_unknown: bool = False) -> Interactions:
    """Read and validate an interactions CSV (`user_id,movie_id,rating[,timestamp]`).

    Ratings of movies the catalogue does not know are refused with their count, unless
    `skip_unknown` drops them with a warning.
    """
    path = Path(path)
    frame, columns = read_table(path, INTERACTIONS_ROLES, INTERACTIONS_REQUIRED)

    empty_users = frame.index[frame["user_id"].str.strip() == ""]
    if len(empty_users):
        raise DataError(f"{path}: row {empty_users[0]}, column {columns.name('user_id')}: empty user id")
    ratings = pd.DataFrame(
        {
            "user_id": frame["user_id"].str.strip(),
            "movie_id": _integers(path, frame, columns, "movie_id"),
            "rating": _numbers(path, frame, columns, "rating", required=True),
            "timestamp": _timestamps(path, frame, columns),
        },
        index=frame.index,
    )
    warnings: list[str] = []
    unknown = ~ratings["movie_id"].isin(catalog.movies["id"])
    if unknown.any():
        example = ratings.index[unknown][0]
        message = (
            f"{int(unknown.sum())} ratings name movies missing from the catalogue "
            f"(first: row {example}, column {columns.name('movie_id')}, id {ratings.at[example, 'movie_id']})"
        )
        if not skip_unknown:
            raise DataError(f"{path}: {message} (skip them with --skip-unknown or MOVIE_R_SKIP_UNKNOWN=1)")
        warnings.append(f"skipped {message}")
        log.warning("interactions=%s %s", path, warnings[-1])
        ratings = ratings[~unknown]
    return Interactions(ratings.reset_index(drop=True), path, file_fingerprint(path), warnings)


def with_rating_popularity(catalog: Catalog, interactions: Interactions) -> Catalog:
    """The catalogue with its popularity taken from the ratings: how many people rated each movie.

    What people rated is what "popular" means to them: a MovieLens catalogue has no
    popularity column at all, and a TMDB one counts a world that is not this service's.
    Movies nobody rated keep the catalogue's own order below every rated one (its value
    scaled under 1), so cold-start answers still prefer what the catalogue calls popular.
    """
    counts = interactions.ratings["movie_id"].value_counts()
    rated = catalog.movies["id"].map(counts).fillna(0).to_numpy(dtype=np.float64)
    own = catalog.movies["popularity"].to_numpy(dtype=np.float64).clip(0)
    unrated = own / (own.max() + 1.0) if len(own) and own.max() > 0 else own
    movies = catalog.movies.assign(popularity=np.where(rated > 0, rated, unrated))
    return replace(catalog, movies=movies)


def parse_genres(value: object) -> tuple[str, ...]:
    """Split a genre cell on `|` or `,` (both appear in real catalogues).

    TMDB exports may hold a JSON list instead: of names, or of `{"id": 28, "name": "Action"}`.
    """
    if not isinstance(value, str):
        return ()
    if value.lstrip().startswith("["):
        listed = _json_genres(value)
        if listed is not None:
            return tuple(name for name in listed if name not in NO_GENRE_MARKERS)
    parts = (part.strip() for part in _GENRE_SPLIT.split(value))
    return tuple(part for part in parts if part and part not in NO_GENRE_MARKERS)


def _json_genres(value: str) -> list[str] | None:
    """Genre names of a JSON list cell, or None when the cell is not one."""
    try:
        items = json.loads(value)
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    names = [item.get("name") if isinstance(item, dict) else item for item in items]
    return [name.strip() for name in names if isinstance(name, str) and name.strip()]


def _invalid_catalog_rows(frame: pd.DataFrame, columns: ColumnMap) -> dict[int, str]:
    """Row number -> why it cannot be used, for every such row."""
    bad: dict[int, str] = {}
    id_column, title_column = columns.name("id"), columns.name("title")
    ids = frame["id"].str.strip()
    for row in frame.index[ids == ""]:
        bad[row] = f"column {id_column}: empty id"
    for row in frame.index[ids.duplicated(keep="first") & (ids != "")]:
        bad[row] = f"column {id_column}: duplicate id {ids[row]}"
    for row in frame.index[frame["title"].str.strip() == ""]:
        bad.setdefault(row, f"column {title_column}: empty title")
    return dict(sorted(bad.items()))


def _describe_rows(bad: dict[int, str]) -> str:
    listed = [f"row {row} ({reason})" for row, reason in list(bad.items())[:MAX_LISTED]]
    more = len(bad) - MAX_LISTED
    return "; ".join(listed) + (f"; and {more} more" if more > 0 else "")


def _parse_error(
    path: Path, frame: pd.DataFrame, columns: ColumnMap, column: str, bad: pd.Series, expected: str
) -> DataError:
    row = bad.index[bad][0]
    return DataError(
        f"{path}: row {row}, column {columns.name(column)}: {frame.at[row, column]!r} is not {expected}"
        f" ({int(bad.sum())} such rows)"
    )


def _finite(frame: pd.DataFrame, column: str) -> pd.Series | None:
    """The column as float64 when Arrow parses every cell as a finite number (the fast path);
    None sends the caller to the pandas parse that names the first bad row."""
    parsed = finite_floats(frame[column])
    return pd.Series(parsed, index=frame.index) if parsed is not None else None


def _integers(path: Path, frame: pd.DataFrame, columns: ColumnMap, column: str) -> pd.Series:
    parsed = _finite(frame, column)
    if parsed is not None and (parsed == parsed.round()).all():
        return parsed.astype("int64")
    text = frame[column].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        raise _parse_error(path, frame, columns, column, bad, "an integer")
    return values.astype("int64")


def _numbers(path: Path, frame: pd.DataFrame, columns: ColumnMap, column: str, required: bool = False) -> pd.Series:
    parsed = _finite(frame, column)
    if parsed is not None:
        return parsed
    text = frame[column].fillna("").str.strip()
    values = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    bad = values.isna() & ((text != "") | required)
    if bad.any():
        raise _parse_error(path, frame, columns, column, bad, "a number")
    return values.astype("float64")


def _titles(frame: pd.DataFrame) -> pd.Series:
    """Titles as shown; a MovieLens "Toy Story (1995)" without a year column loses the "(1995)",
    which becomes its year (`_years`), so answers show "Toy Story" and `year` 1995."""
    titles = frame["title"].str.strip()
    if "year" in frame or "release_date" in frame:
        return titles
    bare = titles.str.replace(_TITLE_YEAR_SUFFIX, "", regex=True)
    return bare.where(bare != "", titles)  # a title that is only "(1999)" stays what it is


def _years(path: Path, frame: pd.DataFrame, columns: ColumnMap) -> pd.Series:
    """From `year` or else `release_date`; without either, from a MovieLens "Title (1995)"."""
    column = "year" if "year" in frame else "release_date" if "release_date" in frame else None
    if column is None:
        from_titles = frame["title"].str.extract(_TITLE_YEAR, expand=False)
        if from_titles.notna().any():
            log.info("file=%s columns year<-the (YYYY) ending titles", path)
        return pd.to_numeric(from_titles, errors="coerce").astype("float64")
    text = frame[column].fillna("").str.strip()
    years = pd.to_numeric(text.str.extract(_YEAR, expand=False), errors="coerce")
    bad = years.isna() & (text != "")
    if bad.any():
        raise _parse_error(path, frame, columns, column, bad, "a year or a date starting with one")
    return years.astype("float64")


def _timestamps(path: Path, frame: pd.DataFrame, columns: ColumnMap) -> pd.Series:
    """Epoch seconds; ISO dates are accepted too. Without the column, file order stands in."""
    if "timestamp" not in frame:
        return pd.Series(np.arange(len(frame), dtype="float64"), index=frame.index)
    parsed = _finite(frame, "timestamp")
    if parsed is not None:
        return parsed
    text = frame["timestamp"].fillna("").str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    dates = pd.to_datetime(text.where(numeric.isna(), ""), errors="coerce", utc=True, format="ISO8601")
    values = numeric.fillna((dates - pd.Timestamp(0, tz="UTC")).dt.total_seconds())
    bad = values.isna()
    if bad.any():
        raise _parse_error(path, frame, columns, "timestamp", bad, "epoch seconds or an ISO date")
    return values.astype("float64")


def _incomplete_warnings(movies: pd.DataFrame, has_overviews: bool) -> list[str]:
    """Rows that load but lack something. A catalogue without an overview column at all (the
    embedded one, MovieLens') is a shape, not a gap: its content is titles, genres and years."""
    warnings = []
    no_genre = int((movies["genres"].map(len) == 0).sum())
    if no_genre:
        warnings.append(f"{no_genre} movies have no genre")
    no_overview = int((movies["overview"] == "").sum())
    if no_overview and has_overviews:
        warnings.append(f"{no_overview} movies have no overview")
    return warnings
