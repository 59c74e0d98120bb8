"""Turning what people type into a catalogue row: normalisation, exact and fuzzy lookup.

Normalisation makes "The Dark Knight", "Dark Knight, The", "the dark knight (2008)" and
"Amélie" / "Amelie" the same key, so most queries resolve by a dictionary lookup; rapidfuzz
only sees what is left (typos), over keys normalised once when the index is built.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

# Leading articles in the languages MovieLens and TMDB titles use; MovieLens moves them to
# the end ("Cité des enfants perdus, La"). They carry no meaning for matching.
ARTICLES = frozenset("the a an la le les l el los las il lo gli i der die das den det en ein eine o os".split())

_TRAILING_YEAR = re.compile(r"\s*\(\s*\d{4}\s*\)\s*$")
_TRAILING_ARTICLE = re.compile(r",\s*(\w+)\s*$")
_TRAILING_PARENTHESIS = re.compile(r"\s*\([^()]*\)\s*$")
_NON_WORD = re.compile(r"[\W_]+")


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
        self._key_lengths = [len(key) for key in self._keys]

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, query: str) -> TitleMatch | None:
        """Exact key match first, then the closest key by `fuzz.ratio` above the threshold."""
        key = normalise_title(query)
        if not key:
            return None
        if key in self._rows:
            return TitleMatch(self._rows[key], "exact", 100.0)
        best = process.extractOne(key, self._candidates(len(key)), scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold)
        if best is None:
            return None
        matched_key, score, _ = best
        return TitleMatch(self._rows[matched_key], "fuzzy", round(float(score), 2))

    def _candidates(self, length: int) -> list[str]:
        """Keys long enough and short enough to reach the threshold at all.

        `fuzz.ratio` is 2*matches/(a+b)*100, so it reaches t only if min/max length >= t/(200-t).
        """
        bound = self.fuzzy_threshold / (200.0 - self.fuzzy_threshold)
        low = bisect.bisect_left(self._key_lengths, math.ceil(length * bound))
        high = bisect.bisect_right(self._key_lengths, math.floor(length / bound) if bound > 0 else math.inf)
        return self._keys[low:high]

    def search(self, query: str, limit: int = 10) -> list[tuple[int, float]]:
        """Rows whose titles start with `query` (by popularity), then fuzzy look-alikes, for autocomplete."""
        key = normalise_title(query)
        if not key:
            return []
        found: dict[int, float] = {}
        for candidate in self._keys:
            if candidate.startswith(key):
                for row in self._rows[candidate]:
                    found.setdefault(row, 100.0)
        prefixed = sorted(found, key=lambda row: -self._popularity[row])[:limit]
        hits = {row: 100.0 for row in prefixed}
        if len(hits) < limit:
            similar = process.extract(key, self._keys, scorer=fuzz.ratio, limit=limit, score_cutoff=60)
            for matched_key, score, _ in similar:
                for row in self._rows[matched_key]:
                    hits.setdefault(row, round(float(score), 2))
        return sorted(hits.items(), key=lambda item: -item[1])[:limit]
