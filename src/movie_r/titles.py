"""Turning what people type into a catalogue row: normalisation, exact and fuzzy lookup.

Normalisation makes "The Dark Knight", "Dark Knight, The", "the dark knight (2008)" and
"Amélie" / "Amelie" the same key, so most queries resolve by a dictionary lookup; rapidfuzz
only sees what is left (typos), over keys normalised once when the index is built, and
only those keys that could reach the score asked for at all (see `TitleIndex._candidates`).
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

# Leading articles in the languages MovieLens and TMDB titles use; MovieLens moves them to
# the end ("Cité des enfants perdus, La"). They carry no meaning for matching.
ARTICLES = frozenset(["the", "a", "an", "la", "le", "les", "l", "el", "los", "las", "il", "lo", "gli", "i", "der", "die", "das", "den", "det", "en", "ein", "eine", "o", "os"])

_TRAILING_YEAR = re.compile(r"\s*\(\s*\d{4}\s*\)\s*$")
_TRAILING_ARTICLE = re.compile(r",\s*(\w+)\s*$")
_TRAILING_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")
_NON_WORD = re.compile(r"[\W_]+")

# Characters counted one by one in the fuzzy pre-filter (the catalogue's most frequent);
# the rest share one count, which keeps the bound valid and the table O(keys).
COUNTED_CHARACTERS = 47
MAX_COUNT = np.iinfo(np.uint16).max
# Autocomplete shows looser look-alikes than lookup accepts as the movie meant.
SEARCH_THRESHOLD = 60.0


def normalise_title(title: str) -> str:
    """A matching key: no accents, case, punctuation, trailing year or leading article."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _TRAILING_YEAR.sub("", text.strip())
    moved = _TRAILING_ARTICLE.search(text)
    if moved and moved.group(1).lower() in ARTICLES:
        text = text[: moved.start()]
    words = _NON_WORD.sub(" ", text.lower()).split()
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def title_keys(title: str) -> set[str]:
    """Every key a title answers to: itself, and without a trailing alternative title.

    MovieLens writes alternative titles in parentheses: "Heavyweights (Heavy Weights)".
    """
    keys = {normalise_title(title)}
    shorter = _TRAILING_PARENTHESIS.sub("", _TRAILING_YEAR.sub("", title.strip()))
    if shorter and shorter != title.strip():
        keys.add(normalise_title(shorter))
    keys.discard("")
    return keys


@dataclass(frozen=True)
class TitleMatch:
    """Rows a query resolved to, best first; `score` is 100 for exact matches."""

    rows: tuple[int, ...]
    method: str  # "exact" | "fuzzy"
    score: float


class TitleIndex:
    """Exact and fuzzy lookup of titles; rows with one title are ordered by popularity."""

    def __init__(self, titles: Sequence[str], popularity: np.ndarray, fuzzy_threshold: float = 80.0) -> None:
        self.fuzzy_threshold = fuzzy_threshold
        by_key: dict[str, list[int]] = {}
        for row, title in enumerate(titles):
            for key in title_keys(title):
                by_key.setdefault(key, []).append(row)
        self._popularity = np.asarray(popularity, dtype=float)
        self._rows = {key: tuple(sorted(rows, key=lambda r: -self._popularity[r])) for key, rows in by_key.items()}
        self._keys = sorted(self._rows, key=len)  # by length, so fuzzy lookup can skip impossible ones
        self._key_lengths = [len(key) for key in self._keys]  # bisect on a list: no array conversion per call
        self._key_length_array = np.array(self._key_lengths)
        self._alphabetical = sorted(self._rows)  # keys sharing a prefix are one run of it
        self._columns, self._char_counts = _character_counts(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, query: str) -> TitleMatch | None:
        """Exact key match first, then the closest key by `fuzz.ratio` above the threshold."""
        key = normalise_title(query)
        if not key:
            return None
        if key in self._rows:
            return TitleMatch(self._rows[key], "exact", 100.0)
        candidates = self._candidates(key, self.fuzzy_threshold)
        best = process.extractOne(key, candidates, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold)
        if best is None:
            return None
        matched_key, score, _ = best
        return TitleMatch(self._rows[matched_key], "fuzzy", round(float(score), 2))

    def _candidates(self, key: str, threshold: float) -> list[str]:
        """The keys that could score `threshold` against `key` at all, in index order.

        `fuzz.ratio` is 200 * LCS / (a + b) for lengths a and b, and the longest common
        subsequence can neither exceed the shorter string (so lengths outside a window are
        skipped) nor the characters the two strings share, counted with repetition. Both
        bounds are exact, so rapidfuzz picks the same best key from the survivors as from
        all keys (tested), typically from a handful instead of thousands.
        """
        length = len(key)
        bound = threshold / (200.0 - threshold)
        low = bisect.bisect_left(self._key_lengths, math.ceil(length * bound - 1e-9))
        high = bisect.bisect_right(self._key_lengths, math.floor(length / bound + 1e-9)) if bound > 0 else len(self)
        counts = Counter(self._columns.get(char, COUNTED_CHARACTERS) for char in key)
        wanted = np.array([min(count, MAX_COUNT) for count in counts.values()], dtype=np.uint16)
        shared = np.minimum(self._char_counts[low:high, list(counts)], wanted).sum(axis=1, dtype=np.int32)
        needed = threshold / 200.0 * (length + self._key_length_array[low:high])
        return [self._keys[row] for row in np.flatnonzero(shared >= needed - 1e-9) + low]

    def search(self, query: str, limit: int = 10) -> list[tuple[int, float]]:
        """Rows whose titles start with `query` (by popularity), then fuzzy look-alikes, for autocomplete."""
        key = normalise_title(query)
        if not key:
            return []
        found = dict.fromkeys(row for candidate in sorted(self._with_prefix(key), key=len) for row in self._rows[candidate])
        prefixed = sorted(found, key=lambda row: -self._popularity[row])[:limit]
        hits = dict.fromkeys(prefixed, 100.0)
        if len(hits) < limit:
            candidates = self._candidates(key, SEARCH_THRESHOLD)
            similar = process.extract(key, candidates, scorer=fuzz.ratio, limit=limit, score_cutoff=SEARCH_THRESHOLD)
            for matched_key, score, _ in similar:
                for row in self._rows[matched_key]:
                    hits.setdefault(row, round(float(score), 2))
        return sorted(hits.items(), key=lambda item: -item[1])[:limit]

    def _with_prefix(self, prefix: str) -> list[str]:
        """Keys starting with `prefix`, found by binary search: autocomplete runs on every keystroke."""
        start = stop = bisect.bisect_left(self._alphabetical, prefix)
        while stop < len(self._alphabetical) and self._alphabetical[stop].startswith(prefix):
            stop += 1
        return self._alphabetical[start:stop]


def _character_counts(keys: Sequence[str]) -> tuple[dict[str, int], np.ndarray]:
    """Each key's count of each frequent character, the rest summed in one last column.

    Returns the column of each counted character and a (keys, COUNTED_CHARACTERS + 1)
    table, column-major so the filter reads a query's few columns contiguously; 96 bytes a
    key (counts stop at MAX_COUNT, far beyond any title or the 200 characters of a query).
    """
    codes = np.frombuffer("".join(keys).encode("utf-32-le"), dtype=np.uint32)  # one code point per character
    distinct, where, frequency = np.unique(codes, return_inverse=True, return_counts=True)
    column_of = np.full(len(distinct), COUNTED_CHARACTERS)
    frequent = np.argsort(-frequency, kind="stable")[:COUNTED_CHARACTERS]
    column_of[frequent] = np.arange(len(frequent))
    columns = {chr(code): column for column, code in enumerate(distinct[frequent].tolist())}
    rows = np.repeat(np.arange(len(keys)), [len(key) for key in keys])
    width = COUNTED_CHARACTERS + 1
    counts = np.bincount(rows * width + column_of[where], minlength=len(keys) * width).reshape(len(keys), width)
    return columns, np.minimum(counts, MAX_COUNT).astype(np.uint16, order="F")
