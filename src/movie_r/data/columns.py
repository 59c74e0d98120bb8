"""Which column of a user's CSV plays which part: the names real exports use for each.

MovieLens writes `movieId,title,genres` and `userId,movieId,rating,timestamp`; TMDB exports
write `id,title,genres,release_date`; movie_r's own shape is `id,title,genre,year`. Each
part (a *role*) accepts every common spelling; two columns that could both play one part
are refused rather than guessed between.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from movie_r.errors import DataError

log = logging.getLogger(__name__)

# role -> accepted header names (compared lower-cased, "_" and " " ignored), first is canonical
CATALOG_ROLES: dict[str, tuple[str, ...]] = {
    "id": ("id", "movie_id", "movieid", "tmdb_id"),
    "title": ("title",),
    "genre": ("genre", "genres"),
    "overview": ("overview", "description", "plot"),
    "year": ("year", "release_year"),
    "release_date": ("release_date",),
    "popularity": ("popularity",),
    "vote_average": ("vote_average",),
    "vote_count": ("vote_count",),
    "original_language": ("original_language",),
}
CATALOG_REQUIRED = ("id", "title", "genre")

INTERACTIONS_ROLES: dict[str, tuple[str, ...]] = {
    "user_id": ("user_id", "userid", "user"),
    "movie_id": ("movie_id", "movieid", "item_id", "itemid"),
    "rating": ("rating", "score"),
    "timestamp": ("timestamp", "time", "date"),
}
INTERACTIONS_REQUIRED = ("user_id", "movie_id", "rating")

_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes"}


@dataclass(frozen=True)
class ColumnMap:
    """Header position of each role found in one file, and how it was found."""

    positions: dict[str, int]
    renamed: dict[str, str]  # role -> header name, where the two differ

    def name(self, role: str) -> str:
        """The file's own name for a role's column, for messages that point into the file."""
        return self.renamed.get(role, role)


def map_columns(path: Path, header: list[str], roles: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> ColumnMap:
    """Assign header columns to roles, refusing missing required roles and ambiguous ones."""
    keys = [_key(name) for name in header]
    duplicated = sorted({header[i] for i, key in enumerate(keys) if keys.count(key) > 1})
    if duplicated:
        raise DataError(f"{path}: column(s) {', '.join(duplicated)} appear more than once in the header")
    positions: dict[str, int] = {}
    renamed: dict[str, str] = {}
    for role, names in roles.items():
        found = [i for i, key in enumerate(keys) if key in {_key(name) for name in names}]
        if len(found) > 1:
            columns = " and ".join(header[i] for i in found)
            raise DataError(f"{path}: columns {columns} could both be the {role}; rename or drop all but one")
        if found:
            positions[role] = found[0]
            if header[found[0]] != role:
                renamed[role] = header[found[0]]
    missing = [role for role in required if role not in positions]
    if missing:
        raise DataError(f"{path}: {_missing_message(header, missing, roles)}")
    if renamed:
        log.info("file=%s columns %s", path, ", ".join(f"{role}<-{name}" for role, name in renamed.items()))
    return ColumnMap(positions, renamed)


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "").replace(" ", "")


def _missing_message(header: list[str], missing: list[str], roles: dict[str, tuple[str, ...]]) -> str:
    accepted = "; ".join(f"{role} ({' or '.join(roles[role])})" for role in missing)
    message = f"missing column(s) {accepted}; header is {','.join(header)!r}"
    for delimiter, name in _OTHER_DELIMITERS.items():
        if len(header) == 1 and delimiter in header[0]:
            return message + f": the file looks separated by {name}, not commas; save it as comma-separated CSV"
    return message
