"""Answers from a history: the movies a person watched, combined into one list.

A client rarely knows one seed movie; it knows what a person watched. Each seed's list is
its precomputed neighbours with the blend's own scores, scaled to that list's best, so
every seed speaks on one scale; a candidate's score is the weighted sum over the seeds
whose lists hold it, so a movie near several of them rises above one near only one. Recent
seeds (the history runs oldest first, latest last) and higher-rated ones weigh more.
Nothing scores the whole catalogue per request: a history of `n` seeds costs `n` lists of
`n_neighbors` entries, gathered and summed once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from movie_r.answering.inference import (
    DEFAULT_K,
    Filters,
    Match,
    Recommendation,
    Recommender,
    Resolution,
    validate_query,
)
from movie_r.answering.match_method import MatchMethod
from movie_r.errors import QueryError, UnknownMovieError
from movie_r.recommenders.neighbours import RowMask

MAX_SEEDS = 50
RANK_OFFSET = 60  # reciprocal rank fusion's constant (Cormack, Clarke and Büttcher, 2009)


@dataclass(frozen=True)
class Mixing:
    """How a history's lists are combined: the choices `benchmarks/quality.py` makes on
    validation folds (its decisions file names them) and `MIXING` holds.

    `recency`: the share of weight each step back in the history keeps, so the last few films
    say most about what a person wants now. `fusion`: what a list gives each of its movies:
    `scores`, the blend's score scaled to the list's best; `ranks`, reciprocal rank fusion
    (1 / (RANK_OFFSET + rank), scaled so a list's first movie also gets 1), which listens
    to the order alone.
    """

    recency: float = 0.8
    fusion: str = "scores"


FUSIONS = ("scores", "ranks")
MIXING = Mixing(recency=0.8, fusion="scores")  # decided on validation (docs/benchmarks.md, "Histories")
TOP_RATING = 5.0  # the rating scale's top (MovieLens' 0.5..5): a top-rated seed weighs fully
NAMED_SEEDS = 3  # seeds a reason names before "and N more"


@dataclass(frozen=True)
class Seed:
    """One watched movie: a title (typos welcome) or a catalogue id, with what is known of it."""

    movie: str | None = None
    movie_id: int | None = None
    rating: float | None = None
    at: datetime | None = None

    @property
    def query(self) -> str:
        """How the answer names this seed back: the title as sent, or the id."""
        return self.movie if self.movie is not None else str(self.movie_id)


def seed_weights(seeds: Sequence[Seed], recency: float = MIXING.recency) -> np.ndarray:
    """Each seed's weight, in the order given: `recency` to the power of how many seeds came
    after it, times its rating's share of `TOP_RATING` when it has one.

    Seeds are in the order watched; when every one carries its time, the times decide
    (a client that sends them need not sort). Half the seeds timed would be no order at all,
    so then the order given stands.
    """
    n = len(seeds)
    position = list(range(n))
    if n and all(seed.at is not None for seed in seeds):
        by_time = sorted(range(n), key=lambda i: seeds[i].at.timestamp())  # type: ignore[union-attr]  # all timed
        for rank, i in enumerate(by_time):
            position[i] = rank
    return np.array(
        [
            recency ** (n - 1 - position[i])
            * (1.0 if seed.rating is None else min(max(seed.rating, 0.0), TOP_RATING) / TOP_RATING)
            for i, seed in enumerate(seeds)
        ]
    )


@dataclass(frozen=True)
class Combined:
    """The best candidates of a history, best first: their rows, scores in 0..1 (a share of the
    seeds' summed weight) and, for each, the seeds that brought it, by their share of its score."""

    rows: np.ndarray
    scores: np.ndarray
    sources: list[list[int]]


def combine(
    neighbours: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray,
    k: int,
    excluded: np.ndarray,
    allowed: RowMask | None = None,
    fusion: str = MIXING.fusion,
) -> Combined:
    """The `k` best of the seeds' neighbour lists under `weights`: `neighbours` and `scores`
    hold one seed's list per row (a score of 0 or less is no entry).

    `excluded` rows (the seeds themselves) are never answered; `allowed`, when given, says
    which rows the request's filters let through. Ties go to the lower row, so one history
    always gets one answer.
    """
    width = scores.shape[1]
    if fusion == "ranks":  # lists are best first: a movie's rank is its column
        given = (RANK_OFFSET + 1) / (RANK_OFFSET + 1 + np.arange(width, dtype=np.float64))
        scaled = np.where(scores > 0, weights[:, None] * given[None, :], 0.0)
    else:
        top = scores.max(axis=1, initial=0.0)
        scale = np.divide(weights, top, out=np.zeros(len(top)), where=top > 0)
        scaled = np.maximum(scores * scale[:, None], 0.0)
    # The entries grouped by movie with one sort and each movie's total one sum. A request's
    # time goes to numpy's cost per call over these few hundred entries, so they are few.
    values = scaled.ravel()
    order = np.argsort(neighbours.ravel())
    movies = neighbours.ravel()[order]
    first = np.ones(len(movies), dtype=bool)
    np.not_equal(movies[1:], movies[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    candidates = movies[starts]
    totals = np.add.reduceat(values[order], starts) if len(starts) else np.zeros(0)
    at = np.minimum(np.searchsorted(candidates, excluded), max(len(candidates) - 1, 0))
    if len(candidates):  # candidates are sorted: exclusion is a binary search
        totals[at[candidates[at] == excluded]] = 0.0
    if allowed is not None and len(candidates):
        totals[~allowed(candidates)] = 0.0
    best = np.argsort(-totals, kind="stable")[:k]  # stable over ascending rows: ties to the lower row
    best = best[totals[best] > 0]
    chosen = candidates[best]
    # what each seed gave each chosen movie (seeds x chosen), to name the seeds in its reasons
    given = (scaled[:, :, None] * (neighbours[:, :, None] == chosen)).sum(axis=1)
    ranked, holds = np.argsort(-given, axis=0, kind="stable").T.tolist(), (given > 0).T.tolist()
    sources = [[seed for seed in seeds if held[seed]] for seeds, held in zip(ranked, holds, strict=True)]
    return Combined(chosen.astype(np.int64), totals[best] / max(float(weights.sum()), 1e-12), sources)


def because(titles: Sequence[str]) -> str:
    """ "because you liked A and C": the seeds that brought a recommendation, strongest first."""
    named = list(titles[:NAMED_SEEDS])
    if len(titles) > NAMED_SEEDS:
        return f"because you liked {', '.join(named)} and {len(titles) - NAMED_SEEDS} more"
    if len(named) == 1:
        return f"because you liked {named[0]}"
    return f"because you liked {', '.join(named[:-1])} and {named[-1]}"


@dataclass(frozen=True)
class SeedMatch:
    """What one seed of a history resolved to (None: it named no catalogue movie) and its weight."""

    query: str
    match: Match | None
    weight: float


@dataclass(frozen=True)
class HistoryResult:
    """One answer to a history, shaped like the API's history response body.

    `method` is `history` when at least one seed resolved; when none did it is the cold
    start's own (`text` from the latest seed's words, or `popular`), as for one title.
    """

    seeds: list[SeedMatch]
    unresolved: list[str]
    cold_start: bool
    method: MatchMethod
    recommendations: list[Recommendation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recommend_from_history(
    recommender: Recommender, seeds: Sequence[Seed], k: int = DEFAULT_K, filters: Filters | None = None
) -> HistoryResult:
    """Up to `k` movies for someone who watched `seeds` (oldest first), none of the seeds.

    A seed that names nothing is reported in `unresolved` and left out; when none resolves
    the answer is the cold start of the latest seed's words, as for one unknown title.
    """
    filters = filters or Filters()
    validate_history(seeds, k)
    if filters.novelty:
        raise QueryError("novelty", "not available for a history: its lists are the precomputed ones")
    recommender.check_filters(filters)
    found = [_resolved(recommender, seed) for seed in seeds]
    resolved = [i for i, resolution in enumerate(found) if resolution is not None]
    # recency counts among the seeds that can speak: one unknown title does not age the others
    weights = np.zeros(len(seeds))
    weights[resolved] = seed_weights([seeds[i] for i in resolved])
    matches = [
        SeedMatch(seed.query, resolution.match if resolution else None, round(float(weight), 6))
        for seed, resolution, weight in zip(seeds, found, weights, strict=True)
    ]
    unresolved = [match.query for match in matches if match.match is None]
    if not resolved:
        texts = [seed.movie for seed in seeds if seed.movie is not None]
        cold = recommender.cold_start(texts[-1] if texts else "", k, filters)
        return HistoryResult(matches, unresolved, True, cold.match.method, cold.recommendations)
    rows = [int(found[i].row) for i in resolved]  # type: ignore[union-attr, arg-type]  # resolved ones have a row
    recommendations = _combined(recommender, rows, weights[resolved], k, filters)
    return HistoryResult(matches, unresolved, False, MatchMethod.history, recommendations)


def history_ids(
    recommender: Recommender, movie_ids: Sequence[int], k: int, filters: Filters, mixing: Mixing = MIXING
) -> list[int]:
    """The ids a history of catalogue `movie_ids` (oldest first) is answered with, without
    reasons: what evaluation scores. Ids the model does not know are left out."""
    rows = [recommender.row_of_id[int(movie_id)] for movie_id in movie_ids if int(movie_id) in recommender.row_of_id]
    if not rows:
        return []
    # weighted among the known seeds only, as `recommend_from_history` weighs the resolved ones
    weights = seed_weights([Seed(movie_id=int(recommender.model.ids_[row])) for row in rows], mixing.recency)
    found = _best(recommender, rows, weights, k, filters, mixing.fusion)
    return recommender.model.ids_[found.rows].tolist()


def validate_history(seeds: Sequence[Seed], k: int) -> None:
    """The same refusals as for one seed, per seed, and a bounded history."""
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise QueryError("history", f"give 1 to {MAX_SEEDS} seeds, got {len(seeds)}")
    for position, seed in enumerate(seeds):
        try:
            validate_query(seed.movie, seed.movie_id, k)
        except QueryError as exc:
            where = "history" if exc.parameter in ("movie", "movie_id") else exc.parameter
            raise QueryError(where, f"seed {position} ({seed.query!r}): {exc.message}") from None


def _resolved(recommender: Recommender, seed: Seed) -> Resolution | None:
    try:
        found = recommender.resolve(seed.movie, seed.movie_id)
    except UnknownMovieError:
        return None
    return found if found.row is not None else None


def _best(
    recommender: Recommender, rows: list[int], weights: np.ndarray, k: int, filters: Filters, fusion: str = MIXING.fusion
) -> Combined:
    """The history's `k` best, topped up seed by seed, strongest first, when the filters reject
    too many of the precomputed lists' movies (each such seed's catalogue is then scored)."""
    model = recommender.model
    allowed = recommender.row_mask(filters)
    neighbours, scores = model.neighbour_lists(rows)
    found = combine(neighbours, scores, weights, k, np.array(sorted(set(rows))), allowed, fusion)
    chosen, given, sources = found.rows.tolist(), found.scores.tolist(), found.sources
    for source in np.argsort(-weights, kind="stable").tolist():
        if len(chosen) >= k:
            break
        taken = np.union1d(rows, chosen)

        def untaken(candidates: np.ndarray, taken: np.ndarray = taken) -> np.ndarray:
            keep = ~np.isin(candidates, taken)
            return keep & allowed(candidates) if allowed is not None else keep

        more, more_scores = model.similar(rows[source], k - len(chosen), untaken)
        below = given[-1] if given else 1.0  # after what the history found, in this seed's own order
        chosen += more.tolist()
        given += (below * more_scores / max(float(more_scores.max(initial=0.0)), 1e-9)).tolist()
        sources += [[source]] * len(more)
    return Combined(np.asarray(chosen, dtype=np.int64), np.asarray(given), sources)


def _combined(recommender: Recommender, rows: list[int], weights: np.ndarray, k: int, filters: Filters) -> list[Recommendation]:
    found = _best(recommender, rows, weights, k, filters)
    model = recommender.model
    titles, genres = model.titles_, model.genres_
    seed_titles = [titles[row] for row in rows]
    seed_genres = [frozenset(genres[row]) for row in rows]
    repeated = len(set(rows)) < len(rows)  # one movie given twice is named once
    recommendations = []
    listed = zip(
        found.rows.tolist(),
        model.ids_[found.rows].tolist(),
        model.years_[found.rows].tolist(),
        found.scores.tolist(),
        found.sources,
        strict=True,
    )
    for row, movie_id, year, score, sources in listed:
        named = [seed_titles[source] for source in sources]
        reasons = [because(list(dict.fromkeys(named)) if repeated else named)]
        if shared := [genre for genre in genres[row] if genre in seed_genres[sources[0]]]:
            reasons.append("shares genres: " + ", ".join(shared))
        year = None if math.isnan(year) else int(year)
        recommendations.append(Recommendation(movie_id, titles[row], year, list(genres[row]), round(score, 6), reasons))
    return recommendations
