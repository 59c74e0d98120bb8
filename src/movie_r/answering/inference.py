"""Answering "movies like X" from a fitted pipeline: resolve the query, then rank.

Resolution order: normalised exact title, fuzzy title (rapidfuzz), then — cold start —
the text itself as a TF-IDF query, then popularity. The result says which path answered,
so the API and its metrics can tell a catalogue gap from a typo.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
from sklearn.pipeline import Pipeline

from movie_r.answering.match_method import MatchMethod
from movie_r.answering.titles import TitleIndex
from movie_r.errors import QueryError, UnknownMovieError
from movie_r.recommenders.blend import TermWeights
from movie_r.recommenders.features import QueryVectorizer, genre_token
from movie_r.recommenders.neighbours import RowMask, best_rows

T = TypeVar("T")
MAX_QUERY_LENGTH = 200
MAX_K = 100
DEFAULT_K = 10
REASON_TERMS = 3
MAX_LISTED_GENRES = 40
SEED_CANDIDATES = 100  # the named movie's neighbours the rest of a description re-ranks
# Unicode category Cc, exactly: the one definition of what a query may not hold (the API's schema reads it)
CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f"
_CONTROL_CHARACTER = re.compile(f"[{CONTROL_CHARACTERS}]")


@dataclass(frozen=True)
class Filters:
    """What a request asks of the ranking beyond its query: restrictions on what may be
    recommended, and `novelty` (0..1), how much of the model's ranking to trade for content
    likeness (`Blend.similar`)."""

    genre: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    exclude: frozenset[int] = frozenset()
    novelty: float = 0.0

    def __post_init__(self) -> None:
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise QueryError("year_min", f"{self.year_min} is after year_max {self.year_max}")
        if not 0.0 <= self.novelty <= 1.0:
            raise QueryError("novelty", f"must be between 0 and 1, got {self.novelty}")


@dataclass(frozen=True)
class Match:
    """What the query resolved to; `id`/`title` are None for text and popularity answers."""

    id: int | None
    title: str | None
    method: MatchMethod
    score: float


@dataclass(frozen=True)
class Resolution:
    """What a query names: a catalogue row (and same-titled others), or no row for a cold start."""

    query: str
    match: Match | None
    row: int | None
    others: tuple[int, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    id: int
    title: str
    year: int | None
    genres: list[str]
    score: float
    reasons: list[str]


@dataclass(frozen=True)
class RecommendResult:
    """One answer, shaped like the API's `/recommend` response body."""

    query: str
    match: Match
    cold_start: bool
    alternatives: list[dict[str, Any]]
    recommendations: list[Recommendation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_query(query: str | None, movie_id: int | None, k: int) -> None:
    """Refuse unusable requests with the parameter they concern (the API's 422s)."""
    if (query is None) == (movie_id is None):
        raise QueryError("movie", "give exactly one of movie (a title or text) and movie_id")
    if not 1 <= k <= MAX_K:
        raise QueryError("k", f"must be between 1 and {MAX_K}, got {k}")
    if query is not None:
        if len(query) > MAX_QUERY_LENGTH:
            raise QueryError("movie", f"at most {MAX_QUERY_LENGTH} characters, got {len(query)}")
        if _CONTROL_CHARACTER.search(query):
            raise QueryError("movie", "must not contain control characters")
        if not query.strip():
            raise QueryError("movie", "must not be empty")


class Recommender:
    """Inference over one fitted pipeline; safe to query from many threads at once."""

    def __init__(self, pipeline: Pipeline, version: str = "unversioned", fuzzy_threshold: float = 80.0) -> None:
        self.pipeline = pipeline
        self.version = version
        self.model = pipeline[-1]
        self.fuzzy_threshold = fuzzy_threshold
        self.row_of_id = {int(movie_id): row for row, movie_id in enumerate(self.model.ids_)}
        self._by_popularity = np.argsort(-self.model.popularity_, kind="stable")
        self._genre_tokens = {genre_token(g): g for genres in self.model.genres_ for g in genres}
        self.genre_names = sorted({g for genres in self.model.genres_ for g in genres}, key=str.casefold)
        self._known_genres = {g.casefold() for g in self.genre_names}
        self._query_vector = QueryVectorizer(pipeline)
        self.terms = self._query_vector.terms

    def __len__(self) -> int:
        return len(self.model.ids_)

    @cached_property
    def titles(self) -> TitleIndex:
        """Built on first use: evaluation asks by id only, and the API builds it while it warms
        up, before it serves (a race of two first users would only build it twice)."""
        return TitleIndex(self.model.titles_, self.model.popularity_, self.fuzzy_threshold)

    def recommend(
        self, query: str | None = None, movie_id: int | None = None, k: int = DEFAULT_K, filters: Filters | None = None
    ) -> RecommendResult:
        """Resolve `query` (or `movie_id`) and return up to `k` movies like it."""
        validate_query(query, movie_id, k)
        found, cold, ranked = self.resolve_then_rank(query, movie_id, k, filters or Filters(), self.similar)
        if cold is not None:
            return cold
        assert ranked is not None and found.match is not None  # not a cold start: a resolved row, ranked
        return RecommendResult(found.query, found.match, False, self.alternatives(found.others), ranked)

    def resolve_then_rank(
        self, query: str | None, movie_id: int | None, k: int, filters: Filters, rank: Callable[[int, int, Filters], T]
    ) -> tuple[Resolution, RecommendResult | None, T | None]:
        """The one path of a request: filters checked, the query resolved, then either the
        whole cold-start answer, or the resolved row's list as `rank(row, k, filters)` makes
        it (`similar` here; the API's per-row lists, which it keeps serialised). Both
        `recommend` and the API's answer cache call this, so they cannot drift apart."""
        self.check_filters(filters)
        found = self.resolve(query, movie_id)
        if found.row is None or found.match is None:
            return found, self.cold_start(found.query, k, filters), None
        return found, None, rank(found.row, k, filters)

    def check_filters(self, filters: Filters) -> None:
        """Refuse a genre the catalogue does not have: an empty list would not say why."""
        if filters.genre and filters.genre.casefold() not in self._known_genres:
            listed = ", ".join(self.genre_names[:MAX_LISTED_GENRES])
            more = len(self.genre_names) - MAX_LISTED_GENRES
            known = listed + (f" and {more} more" if more > 0 else "") if self.genre_names else "none"
            raise QueryError("genre", f"unknown genre {filters.genre!r}; the catalogue's genres: {known}")

    def resolve(self, query: str | None = None, movie_id: int | None = None) -> Resolution:
        """The catalogue row a query names (an id, or a title exactly or fuzzily), if any."""
        if movie_id is not None:
            row = self.row_index(movie_id)
            return Resolution(str(movie_id), Match(movie_id, self.model.titles_[row], MatchMethod.exact, 100.0), row)
        if query is None:
            raise QueryError("movie", "give a title or text, or a movie_id")
        found = self.titles.lookup(query)
        if found is None:
            return Resolution(query, None, None)
        row = found.rows[0]
        match = Match(int(self.model.ids_[row]), self.model.titles_[row], found.method, found.score)
        return Resolution(query, match, row, found.rows[1:])

    def popular_rows(self) -> np.ndarray:
        """Catalogue rows, most popular first."""
        return self._by_popularity

    def row_index(self, movie_id: int) -> int:
        try:
            return self.row_of_id[int(movie_id)]
        except KeyError:
            raise UnknownMovieError(f"no movie with id {movie_id}") from None

    def movie(self, row: int) -> dict[str, Any]:
        """Public description of one catalogue row."""
        year = self.model.years_[row]
        return {
            "id": int(self.model.ids_[row]),
            "title": self.model.titles_[row],
            "year": None if math.isnan(year) else int(year),
            "genres": list(self.model.genres_[row]),
            "popularity": float(self.model.popularity_[row]),
        }

    def similar(self, row: int, k: int, filters: Filters) -> list[Recommendation]:
        """Up to `k` movies like catalogue row `row`, with the reasons for each."""
        rows, scores = self._ranked(row, k, filters)
        reasons = self._explain(rows, self.model.terms_of(row), self.model.genres_[row])
        for why, together in zip(reasons, self.model.co_liked(row, rows).tolist(), strict=True):
            if together:
                why.insert(0, f"liked by {together} people who liked {self.model.titles_[row]}")
        return [self._recommendation(r, s, why) for r, s, why in zip(rows, scores, reasons, strict=True)]

    def similar_ids(self, movie_id: int, k: int, filters: Filters) -> list[int]:
        """The ids `recommend(movie_id=movie_id)` answers, in its order, without their reasons:
        all evaluation scores, and the reasons were most of an answer's cost."""
        rows, _ = self._ranked(self.row_index(movie_id), k, filters)
        return self.model.ids_[rows].tolist()

    def _ranked(self, row: int, k: int, filters: Filters) -> tuple[np.ndarray, np.ndarray]:
        """The one ranking both answers and evaluation read, so they cannot drift apart."""
        return self.model.similar(row, k, self.row_mask(filters), filters.novelty)

    def alternatives(self, rows: tuple[int, ...]) -> list[dict[str, Any]]:
        """Other movies with the same title: id, title and year."""
        movies = [self.movie(row) for row in rows]
        return [{"id": movie["id"], "title": movie["title"], "year": movie["year"]} for movie in movies]

    def cold_start(self, query: str, k: int, filters: Filters) -> RecommendResult:
        """An answer for text that names no movie: by its words, then movies like the best of
        those (a few words often match only a title or two), then by popularity: `k` in all
        whenever the filters allow as many."""
        terms = self._query_vector(query)
        seed = self.titles.named_after_cue(query)
        if seed is not None:
            return self._described_by(query, seed, terms, k, filters)
        if len(terms[0]):
            rows, scores = best_rows(self.model.text_scores(terms), k, self.row_mask(filters))
            if len(rows):
                reasons = self._explain(rows, terms, ())
                recommendations = [self._recommendation(r, s, why) for r, s, why in zip(rows, scores, reasons, strict=True)]
                if len(recommendations) < k:
                    recommendations += self._like(int(rows[0]), float(scores[-1]), k - len(rows), filters, set(rows.tolist()))
                if len(recommendations) < k:
                    taken = {item.id for item in recommendations}
                    recommendations += [r for r in self._popular(k, filters) if r.id not in taken][: k - len(recommendations)]
                return RecommendResult(query, Match(None, None, MatchMethod.text, float(scores[0])), True, [], recommendations)
        return RecommendResult(query, Match(None, None, MatchMethod.popular, 0.0), True, [], self._popular(k, filters))

    def _described_by(self, query: str, seed: int, terms: TermWeights, k: int, filters: Filters) -> RecommendResult:
        """ "Something like Inception but funny": movies like the named one, those the rest of
        the words also describe first (the text's cosine added to the similarity)."""
        mask = self.row_mask(filters)
        rows, scores = self.model.similar(seed, max(SEED_CANDIDATES, k), mask)
        if len(terms[0]) and len(rows):  # both scaled to a best of 1: the words weigh as much as the likeness
            described = self.model.text_scores(terms)[rows]
            scores = scores / max(float(scores.max()), 1e-9) + described / max(float(described.max()), 1e-9)
        order = np.argsort(-scores, kind="stable")[:k]
        rows, scores = rows[order], scores[order]
        like = f"like {self.model.titles_[seed]}, which the text names"
        reasons = self._explain(rows, terms, self.model.genres_[seed])
        recommendations = [self._recommendation(r, s, [like, *why]) for r, s, why in zip(rows, scores, reasons, strict=True)]
        match = Match(
            int(self.model.ids_[seed]), self.model.titles_[seed], MatchMethod.text, float(scores[0]) if len(scores) else 0.0
        )
        return RecommendResult(query, match, True, [], recommendations)

    def _like(self, seed: int, below: float, k: int, filters: Filters, taken: set[int]) -> list[Recommendation]:
        """Up to `k` movies like catalogue row `seed`, none of `taken`, scored under `below` (they follow the text matches)."""
        mask = self.row_mask(filters)

        def allowed(rows: np.ndarray) -> np.ndarray:
            keep = ~np.isin(rows, list(taken))
            return keep & mask(rows) if mask is not None else keep

        rows, scores = self.model.similar(seed, k, allowed)
        reasons = self._explain(rows, self.model.terms_of(seed), self.model.genres_[seed])
        like = f"like {self.model.titles_[seed]}, the best match of the words"
        return [self._recommendation(r, below * s, [like, *why]) for r, s, why in zip(rows, scores, reasons, strict=True)]

    def _popular(self, k: int, filters: Filters) -> list[Recommendation]:
        rows = self._by_popularity[self._allowed(self._by_popularity, filters)][:k]
        top = self.model.popularity_[rows[0]] if len(rows) and self.model.popularity_[rows[0]] > 0 else 1.0
        return [self._recommendation(r, self.model.popularity_[r] / top, ["popular in the catalogue"]) for r in rows]

    def row_mask(self, filters: Filters) -> RowMask | None:
        """The filters as a function over rows, or None when they let everything through."""
        if not (filters.genre or filters.year_min is not None or filters.year_max is not None or filters.exclude):
            return None
        return lambda rows: self._allowed(rows, filters)

    def _allowed(self, rows: np.ndarray, filters: Filters) -> np.ndarray:
        keep = np.ones(len(rows), dtype=bool)
        if filters.genre:
            wanted = filters.genre.casefold()
            keep &= np.fromiter((any(g.casefold() == wanted for g in self.model.genres_[r]) for r in rows), bool, len(rows))
        years = self.model.years_[rows]
        if filters.year_min is not None:
            keep &= years >= filters.year_min
        if filters.year_max is not None:
            keep &= years <= filters.year_max
        if filters.exclude:
            keep &= ~np.isin(self.model.ids_[rows], list(filters.exclude))
        return keep

    def _recommendation(self, row: int, score: float, reasons: list[str]) -> Recommendation:
        movie = self.movie(row)
        return Recommendation(movie["id"], movie["title"], movie["year"], movie["genres"], round(float(score), 6), reasons)

    def _explain(self, rows: np.ndarray, query_terms: TermWeights, genres: tuple[str, ...]) -> list[list[str]]:
        """Reasons for each of `rows`: the terms it shares with the query, strongest first."""
        shared = self.model.shared_terms(rows, query_terms)
        return [self._reasons(int(row), self.terms[terms].tolist(), genres) for row, terms in zip(rows, shared, strict=True)]

    def _reasons(self, row: int, terms: list[str], genres: tuple[str, ...]) -> list[str]:
        """Why `row` was chosen: genres it shares and the terms that weigh most in the match."""
        shared_genres = [g for g in self.model.genres_[row] if g in genres]
        genres_from_terms = [self._genre_tokens[t] for t in terms if t in self._genre_tokens]
        shared_genres += [g for g in genres_from_terms if g not in shared_genres]
        words = [t for t in terms if not t.startswith(("genre_", "decade_"))][:REASON_TERMS]
        decades = [t.removeprefix("decade_") for t in terms if t.startswith("decade_")]
        reasons = []
        if shared_genres:
            reasons.append("shares genres: " + ", ".join(shared_genres))
        if words:
            reasons.append("shares terms: " + ", ".join(words))
        if decades:
            reasons.append(f"same decade: {decades[0]}")
        return reasons
