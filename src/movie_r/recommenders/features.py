"""The text a movie is compared by: title, genres as their own tokens, overview and decade.

`MovieText` is the first step of every content pipeline. Genres become tokens such as
`genre_scifi` so they cannot collide with title words, and their weight is a parameter
(repetition before TF-IDF); a movie or free-text query without genres borrows the genre
names its words mention, so "space adventure" meets the Adventure genre.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from movie_r.data.title_keys import normalise_title

_SLUG = re.compile(r"[^a-z0-9]+")

# Words people use for a genre without naming it ("funny animated movie for kids"), by the
# genre names MovieLens and TMDB catalogues use; a name the catalogue lacks is ignored.
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "funny": ("Comedy",), "hilarious": ("Comedy",), "comedies": ("Comedy",), "laugh": ("Comedy",),
    "animated": ("Animation",), "cartoon": ("Animation",), "cartoons": ("Animation",), "anime": ("Animation",),
    "kids": ("Children", "Family"), "kid": ("Children", "Family"), "family": ("Children", "Family"),
    "scary": ("Horror",), "creepy": ("Horror",), "frightening": ("Horror",),
    "romantic": ("Romance",), "love": ("Romance",),
    "space": ("Sci-Fi", "Science Fiction"), "futuristic": ("Sci-Fi", "Science Fiction"), "scifi": ("Sci-Fi", "Science Fiction"),
    "heist": ("Crime",), "gangster": ("Crime",), "mafia": ("Crime",), "detective": ("Mystery", "Crime"),
    "cowboy": ("Western",), "cowboys": ("Western",), "magic": ("Fantasy",), "magical": ("Fantasy",),
    "suspense": ("Thriller",), "tense": ("Thriller",), "musicals": ("Musical",), "singing": ("Musical",),
}  # fmt: skip


def genre_token(genre: str) -> str:
    """`Sci-Fi` -> `genre_scifi`: one token per genre, safe from the default token pattern."""
    return "genre_" + _SLUG.sub("", genre.lower())


def decade_token(year: float) -> str:
    """1994 -> `decade_1990s`; unknown years give no token."""
    return "" if year is None or math.isnan(year) else f"decade_{int(year) // 10 * 10}s"


class MovieText(TransformerMixin, BaseEstimator):
    """Build one weighted document per movie from a catalogue frame.

    Weights are integer repetitions, so with `sublinear_tf` they act as a log-scaled boost.
    """

    def __init__(self, title_weight: int = 2, genre_weight: int = 3, overview_weight: int = 1, decade_weight: int = 1):
        self.title_weight = title_weight
        self.genre_weight = genre_weight
        self.overview_weight = overview_weight
        self.decade_weight = decade_weight

    def fit(self, X: pd.DataFrame, y: object = None) -> MovieText:
        genres = sorted({genre for row in X["genres"] for genre in row})
        self.genre_patterns_ = {
            genre: re.compile(rf"\b{re.escape(normalise_title(genre))}\b") for genre in genres if normalise_title(genre)
        }
        return self

    def transform(self, X: pd.DataFrame | dict[str, list]) -> list[str]:
        """Documents for a catalogue frame, or for a dict of columns (cheaper for one query)."""
        check_is_fitted(self, "genre_patterns_")
        n_rows = len(X["title"])
        overviews = X["overview"] if "overview" in X else [""] * n_rows
        years = X["year"] if "year" in X else [math.nan] * n_rows
        return [
            self._document(title, genres, overview, year)
            for title, genres, overview, year in zip(X["title"], X["genres"], overviews, years, strict=True)
        ]

    def _document(self, title: str, genres: Iterable[str], overview: str, year: float) -> str:
        genres = tuple(genres) or self._genres_named_in(f"{title} {overview}")
        parts = [normalise_title(title)] * self.title_weight
        parts += [genre_token(genre) for genre in genres] * self.genre_weight
        parts += [overview] * self.overview_weight
        parts += [decade_token(year)] * self.decade_weight
        return " ".join(part for part in parts if part)

    def _genres_named_in(self, text: str) -> tuple[str, ...]:
        """The catalogue's genres `text` names, or describes in a word of `GENRE_WORDS`."""
        words = normalise_title(text)
        named = [genre for genre, pattern in self.genre_patterns_.items() if pattern.search(words)]
        known = {genre.casefold(): genre for genre in self.genre_patterns_}
        for word in words.split():
            named += [known[name.casefold()] for name in GENRE_WORDS.get(word, ()) if name.casefold() in known]
        return tuple(dict.fromkeys(named))


class QueryVectorizer:
    """The TF-IDF terms of one free-text query, from a fitted pipeline's own text steps.

    The text is read as a movie's overview, not as its title: a description's words then
    count once beside the genres they name ("funny animated movie for kids" -> Comedy,
    Animation, Children), where read as a title each word counted as often as a genre and
    a movie merely titled *Kids* came first.

    Gives the same numbers as `pipeline[:-1].transform` of that document (a test holds them equal) but skips
    scikit-learn's per-call input validation and the sparse-matrix wrapper, which cost
    about half a millisecond for one short document — most of a cold-start answer's time.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self._text: MovieText = pipeline.named_steps["text"]
        tfidf: TfidfVectorizer = pipeline.named_steps["tfidf"]
        self._tfidf = tfidf
        self._analyze = tfidf.build_analyzer()
        self._vocabulary = tfidf.vocabulary_
        self.terms: np.ndarray = tfidf.get_feature_names_out()  # a term index -> its word

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted term indices of the query's vector and their weights (empty if no term is known)."""
        document = self._text.transform({"title": [""], "genres": [()], "overview": [text], "year": [math.nan]})[0]
        counts = Counter(self._vocabulary[t] for t in self._analyze(document) if t in self._vocabulary)
        columns = np.array(sorted(counts), dtype=np.int32)
        values = np.array([counts[c] for c in columns], dtype=np.float64)
        tfidf = self._tfidf
        if tfidf.binary:
            values[:] = 1.0
        if tfidf.sublinear_tf:
            values = 1.0 + np.log(values)
        if tfidf.use_idf:
            values *= tfidf.idf_[columns]
        if tfidf.norm and values.size:
            values /= np.linalg.norm(values, ord=1 if tfidf.norm == "l1" else 2)
        return columns, values.astype(tfidf.dtype)
