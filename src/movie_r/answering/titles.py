"""Turning what people type into a catalogue row: normalisation, exact and fuzzy lookup.

Normalisation makes "The Dark Knight", "Dark Knight, The", "the dark knight (2008)" and
"Amélie" / "Amelie" the same key, so most queries resolve by a dictionary lookup. A typo
(one slip) is found next by table lookups of the keys within one edit (`DeletionIndex`),
then judged a slip of that title or not (`slips`); rapidfuzz only scores what is left,
over keys normalised once when the index is built, and only those keys that could reach
the score asked for at all (see `TitleIndex._candidates`).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jellyfish
import numpy as np
from rapidfuzz import fuzz, process

from movie_r.answering.deletion_index import DeletionIndex
from movie_r.answering.match_method import MatchMethod
from movie_r.answering.slips import is_slip_of
from movie_r.data.title_keys import ARTICLES, normalise_title, said_and_key, title_keys

_ARTICLE_LETTERS = [sorted(article) for article in ARTICLES if len(article) > 1]  # "teh" is "the" misspelt

# Prefix matches ("star wars" for every Star Wars film) only for queries at least this long,
# and a more popular prefix match wins over an exact one only when this many times as popular.
MIN_PREFIX_QUERY = 4
PREFIX_OVER_EXACT = 2.0
MAX_ALTERNATIVES = 10
MIN_PHONETIC_QUERY = 6
RESEMBLING = 90.0  # partial_ratio at which an unresolved query looks like part of a title
MISSPELT_LENGTH = 2  # a typo of a title is at most this many characters longer or shorter
MAX_REMEMBERED = 10_000  # queries whose resemblance is remembered (a few ms each to find)
LIKE_CUES = (("like",), ("similar", "to"), ("such", "as"), ("in", "style", "of"))

# Characters counted one by one in the fuzzy pre-filter (the catalogue's most frequent);
# the rest share one count, which keeps the bound valid and the table O(keys).
COUNTED_CHARACTERS = 47
MAX_COUNT = np.iinfo(np.uint16).max
# Autocomplete shows looser look-alikes than lookup accepts as the movie meant.
SEARCH_THRESHOLD = 60.0


@dataclass(frozen=True)
class TitleMatch:
    """Rows a query resolved to, best first; `score` is 100 for exact matches."""

    rows: tuple[int, ...]
    method: MatchMethod  # exact, partial or fuzzy
    score: float


class TitleIndex:
    """Exact and fuzzy lookup of titles; rows with one title are ordered by popularity."""

    def __init__(self, titles: Sequence[str], popularity: np.ndarray, fuzzy_threshold: float = 80.0) -> None:
        self.fuzzy_threshold = fuzzy_threshold
        by_key: dict[str, list[int]] = {}
        for row, title in enumerate(titles):
            for key in sorted(title_keys(title)):  # a set's order varies by process: ties must not
                by_key.setdefault(key, []).append(row)
        self._popularity = np.asarray(popularity, dtype=float)
        self._rows = {key: self._most_popular_first(rows) for key, rows in by_key.items()}
        self._keys = sorted(self._rows, key=len)  # by length, so fuzzy lookup can skip impossible ones
        self._key_lengths = [len(key) for key in self._keys]  # bisect on a list: no array conversion per call
        self._key_length_array = np.array(self._key_lengths)
        self._alphabetical = sorted(self._rows)  # keys sharing a prefix are one run of it
        self._columns, self._char_counts = _character_counts(self._keys)
        # Every key, then each title as said: what a one-edit slip is looked up in
        spoken = dict(map(said_and_key, titles))
        said = sorted(form for form, key in spoken.items() if form not in self._rows and key in self._rows)
        self._near_keys = self._keys + said
        self._key_of = {**{key: key for key in self._keys}, **{form: spoken[form] for form in said}}
        self._near: DeletionIndex | None = None
        self._prefix_cache: dict[int, tuple[dict[str, list[int]], list[str]]] = {}
        self._sounds: dict[str, list[str]] | None = None
        self._resembling: dict[str, int | None] = {}
        self._meant_rows: dict[str, tuple[int, ...]] = {}  # catalogue keys only: bounded by the catalogue

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, query: str) -> TitleMatch | None:
        """Exact key or the start of titles (the most popular of those first), then the
        closest key by `fuzz.ratio` above the threshold, word for word."""
        said, key = said_and_key(query)
        if not key:
            return None
        whole = self._prefixed(key)
        if whole is not None:
            return whole
        slip = self._one_edit(said, key)
        if slip is not None:
            return slip
        candidates = self._candidates(key, self.fuzzy_threshold)
        for matched_key, score, _ in process.extract(key, candidates, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold, limit=5):
            if is_slip_of(key, matched_key):
                return self._meant(matched_key, score)
        return self._fuzzy_prefix(key) or self._sounding_like(key)

    def _one_edit(self, said: str, key: str) -> TitleMatch | None:
        """The key or title as said within one edit of the query that scores best and is
        judged a slip of it: most typos, found without scoring the catalogue.

        The query as said first: it meets titles as said and the keys of titles said as
        their key. Its key only when that differs and found nothing ("godfathr part ii"
        is one edit from the key "godfather 2", not from "the godfather part ii").
        """
        if self._near is None:  # built on the first typo; a race builds it twice, harmlessly
            self._near = DeletionIndex(self._near_keys)
        for typed in (said, key) if said != key else (said,):
            best: tuple[float, str] | None = None
            for position in self._near.candidates(typed):
                near = self._near_keys[position]
                score = fuzz.ratio(typed, near, score_cutoff=self.fuzzy_threshold)
                if score and (best is None or score > best[0]) and is_slip_of(typed, near):
                    best = (score, near)
            if best is not None:
                return self._meant(self._key_of[best[1]], best[0])
        return None

    def _meant(self, matched_key: str, score: float) -> TitleMatch:
        """A fuzzy match on `matched_key`, answered as if it had been typed right: its longer namesakes too."""
        rows = self._meant_rows.get(matched_key)
        if rows is None:  # many typos mean the same few popular titles
            meant = self._prefixed(matched_key)
            rows = self._meant_rows[matched_key] = meant.rows if meant else self._rows[matched_key]
        return TitleMatch(rows, MatchMethod.fuzzy, round(float(score), 2))

    def _sounding_like(self, key: str) -> TitleMatch | None:
        """A title spelt as it sounds ("incepshun" for Inception): the same Metaphone code,
        for queries of `MIN_PHONETIC_QUERY` letters or more (short codes collide). Reached
        only when nothing else matched."""
        if sum(char.isalpha() for char in key) < MIN_PHONETIC_QUERY:
            return None
        if self._sounds is None:  # built on the first miss; a race builds it twice, harmlessly
            sounds: dict[str, list[str]] = {}
            for other in self._rows:
                sounds.setdefault(jellyfish.metaphone(other), []).append(other)
            self._sounds = sounds
        keys = self._sounds.get(jellyfish.metaphone(key))
        if not keys:
            return None
        ordered = self._most_popular_first(row for other in keys for row in self._rows[other])
        score = max(fuzz.ratio(key, other) for other in keys)
        return TitleMatch(ordered[: MAX_ALTERNATIVES + 1], MatchMethod.fuzzy, round(float(score), 2))

    def _fuzzy_prefix(self, key: str) -> TitleMatch | None:
        """A typo in the start of titles: "harry poter" for the Harry Potter films, compared
        with the first as many words of every title. Only queries of two words or more: one
        word is too short a start to tell a typo from another title. Reached on misses only."""
        words = len(key.split())
        if words < 2:
            return None
        prefixes, starts = self._prefixes(words)
        for start, score, _ in process.extract(key, starts, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold, limit=5):
            if is_slip_of(key, start):
                rows = self._most_popular_first(prefixes[start])
                return TitleMatch(rows[: MAX_ALTERNATIVES + 1], MatchMethod.fuzzy, round(float(score), 2))
        return None

    def _prefixes(self, words: int) -> tuple[dict[str, list[int]], list[str]]:
        """The first `words` words of every longer key -> the rows of those keys, and those
        starts as a list for rapidfuzz; built on first use."""
        found = self._prefix_cache.get(words)
        if found is None:
            starts: dict[str, list[int]] = {}
            for key, rows in self._rows.items():
                parts = key.split()
                if len(parts) > words:
                    starts.setdefault(" ".join(parts[:words]), []).extend(rows)
            found = self._prefix_cache[words] = (starts, list(starts))
        return found

    def resembling(self, query: str) -> int | None:
        """The row of a title that holds (nearly) all of `query` although lookup found none:
        the sign of a resolution that failed, not of a movie the catalogue lacks.

        A title that is only part of the query ("unknown" in "zzzz unknown") does not count:
        partial_ratio scores the shorter string inside the longer, so shorter titles are skipped.
        """
        wanted = normalise_title(query)
        if not wanted:
            return None
        remembered = self._resembling.get(wanted, -1)  # the console and `movie-r metrics` ask the same again
        if remembered != -1:
            return remembered
        found = process.extract(wanted, self._keys, scorer=fuzz.partial_ratio, score_cutoff=RESEMBLING, limit=50)
        row = next((self._rows[key][0] for key, _, _ in found if len(key) >= len(wanted)), None)
        if row is None:
            row = self._misspelt(wanted)
        if len(self._resembling) >= MAX_REMEMBERED:
            self._resembling.clear()  # bounded: outside input fills it
        self._resembling[wanted] = row
        return row

    def _misspelt(self, wanted: str) -> int | None:
        """The row of a title `wanted` is a typo of, one that lookup's word-for-word rule let
        pass: a title as close as a fuzzy match by whole string ("bonfire o fthe vanities"),
        or one behind a misspelt or glued-on article ("teh matrix", "therock"), which a key
        (articles dropped) never holds."""
        forms = [wanted]
        first, _, rest = wanted.partition(" ")
        if rest and sorted(first) in _ARTICLE_LETTERS:
            forms.append(rest)
        forms += [wanted[len(a) :] for a in ARTICLES if len(a) > 1 and wanted.startswith(a) and len(wanted) - len(a) >= 3]
        for form in forms:
            if form in self._rows:
                return self._rows[form][0]
            close = [key for key in self._candidates(form, self.fuzzy_threshold) if abs(len(key) - len(form)) <= MISSPELT_LENGTH]
            best = process.extractOne(form, close, scorer=fuzz.ratio, score_cutoff=self.fuzzy_threshold)
            if best is not None:
                return self._rows[best[0]][0]
        return None

    def named_after_cue(self, text: str) -> int | None:
        """The catalogue row a description names as its model: "something like inception but
        funny" -> Inception. Only after a cue (`LIKE_CUES`), the longest title that follows it
        word for word, the most popular of that title; a title word alone is not a reference
        ("funny movie for kids" names no movie *Kids*)."""
        words = normalise_title(text).split()
        for start in range(len(words)):
            cue = next((c for c in LIKE_CUES if words[start : start + len(c)] == list(c)), None)
            if cue is None:
                continue
            after = start + len(cue)
            for stop in range(len(words), after, -1):
                rows = self._rows.get(normalise_title(" ".join(words[after:stop])))  # "the matrix" -> "matrix"
                if rows:
                    return rows[0]
        return None

    def _prefixed(self, key: str) -> TitleMatch | None:
        """Titles whose key is `key` or starts with its words: "star wars" names every Star
        Wars film. The most popular answers; an exact title keeps precedence unless a longer
        one is `PREFIX_OVER_EXACT` times as popular ("lord of the rings": the trilogy, not
        the 1978 film)."""
        exact = self._rows.get(key, ())
        longer: tuple[int, ...] = ()
        if len(key) >= MIN_PREFIX_QUERY:
            starting = self._with_prefix(key + " ")
            longer = tuple(dict.fromkeys(row for k in starting for row in self._rows[k] if row not in exact))
        if not exact and not longer:
            return None
        popularity = self._popularity
        longer = self._most_popular_first(longer)
        if exact and (not longer or popularity[longer[0]] < PREFIX_OVER_EXACT * max(popularity[exact[0]], 1e-9)):
            return TitleMatch(exact, MatchMethod.exact, 100.0)
        return TitleMatch(self._most_popular_first((*exact, *longer))[: MAX_ALTERNATIVES + 1], MatchMethod.partial, 100.0)

    def _most_popular_first(self, rows: Iterable[int]) -> tuple[int, ...]:
        """Distinct `rows`, the most popular first (ties in first-seen order)."""
        return tuple(sorted(dict.fromkeys(rows), key=lambda row: -self._popularity[row]))

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
