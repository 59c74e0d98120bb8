"""Request and response bodies, as the OpenAPI document at /docs describes them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from movie_r.answering.history import MAX_SEEDS, TOP_RATING, Seed, validate_history
from movie_r.answering.inference import CONTROL_CHARACTERS, DEFAULT_K, MAX_K, MAX_QUERY_LENGTH, Filters, validate_query
from movie_r.answering.match_method import MatchMethod
from movie_r.errors import QueryError
from movie_r_api.request_ids import MAX_ANSWER_ID


def _movie_field(description: str) -> Any:
    return Field(
        None,
        max_length=MAX_QUERY_LENGTH,
        pattern=f"^[^{CONTROL_CHARACTERS}]*$",  # the core's rule, for the docs; `validate_query` enforces it
        description=description,
    )


class Ranking(BaseModel):
    """What a request asks of the ranking besides its seeds, the same for one movie and a history.

    Unknown parameters are refused: they would change nothing in the answer but could make
    every request a new cache entry.
    """

    model_config = ConfigDict(extra="forbid")

    k: int = Field(DEFAULT_K, ge=1, le=MAX_K, description="How many movies to return.")
    genre: str | None = Field(None, max_length=50, description="Only movies of this genre.")
    year_min: int | None = Field(None, ge=1800, le=2200, description="Only movies from this year on.")
    year_max: int | None = Field(None, ge=1800, le=2200, description="Only movies up to this year.")


class RecommendQuery(Ranking):
    """Query parameters of GET /recommend: exactly one of `movie` and `movie_id`, or a
    history of several (`HistoryRequest`, which `from_query_string` makes of them)."""

    movie: str | None = _movie_field(
        "A title (typos, odd casing welcome) or free text; no control characters. Repeat it, "
        f"or mix it with `movie_id`, for a history of up to {MAX_SEEDS} movies in the order watched, latest last."
    )
    movie_id: int | None = Field(None, description="A catalogue id instead of `movie`; repeatable like it.")
    exclude: list[str] = Field(
        default_factory=list, max_length=500, description="Ids never to recommend; repeat the parameter or comma-separate."
    )
    novelty: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="0: the model's ranking (what people who liked the movie liked); 1: content likeness only "
        "(movies that are like it, less often the popular ones). Between: a mix.",
    )

    @classmethod
    def from_query_string(cls, query_string: bytes) -> RecommendQuery | HistoryRequest:
        """Parse and validate a raw query string (pydantic's ValidationError or a QueryError if unusable).

        Parsed as Starlette parses `request.query_params` (the last value of each name,
        every `exclude`), with one pydantic call instead of FastAPI's per-parameter solving.
        More than one `movie` or `movie_id` is a history, in the order given.
        """
        values: dict[str, Any] = {}
        excludes, seeds = [], []
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            if name == "exclude":
                excludes.append(value)
            elif name in SEED_NAMES:
                seeds.append({name: value})
            else:
                values[name] = value
        if len(seeds) > 1:
            return _history_query(seeds, values, excludes)
        values.update(*seeds)
        if excludes:
            values["exclude"] = excludes
        query = cls.model_validate(values)
        validate_query(query.movie, query.movie_id, query.k)
        return query

    def filters(self) -> Filters:
        return Filters(self.genre, self.year_min, self.year_max, _exclude_ids(self.exclude), self.novelty)


SEED_NAMES = ("movie", "movie_id")
MAX_EXCLUDED = 500


class HistorySeed(BaseModel):
    """One movie of a history: exactly one of `movie` and `movie_id`."""

    model_config = ConfigDict(extra="forbid")

    movie: str | None = _movie_field("A title (typos, odd casing welcome); no control characters.")
    movie_id: int | None = Field(None, description="A catalogue id instead of `movie`.")
    rating: float | None = Field(
        None, ge=0.0, le=TOP_RATING, description=f"The person's rating, 0..{TOP_RATING:g}: higher-rated movies weigh more."
    )
    at: datetime | None = Field(None, description="When it was watched; when every seed has one, they set the order.")

    def seed(self) -> Seed:
        return Seed(self.movie, self.movie_id, self.rating, self.at)


class HistoryRequest(Ranking):
    """Body of POST /recommend, and what GET makes of several `movie`/`movie_id` parameters."""

    history: list[HistorySeed] = Field(
        min_length=1, max_length=MAX_SEEDS, description=f"What the person watched, oldest first, latest last (1..{MAX_SEEDS})."
    )
    exclude: list[int] = Field(default_factory=list, max_length=MAX_EXCLUDED, description="Ids never to recommend.")

    def seeds(self) -> list[Seed]:
        return [item.seed() for item in self.history]

    def filters(self) -> Filters:
        return Filters(self.genre, self.year_min, self.year_max, frozenset(self.exclude))

    def validate_seeds(self) -> HistoryRequest:
        """The core's refusals for each seed (exactly one of the two, no empty title), as `QueryError`s."""
        validate_history(self.seeds(), self.k)
        return self


def _history_query(seeds: list[dict[str, str]], values: dict[str, Any], excludes: list[str]) -> HistoryRequest:
    if len(seeds) > MAX_SEEDS:
        raise QueryError("movie", f"at most {MAX_SEEDS} movies in a history, got {len(seeds)}")
    if "novelty" in values:  # a history is combined from the precomputed lists, which have no novelty
        raise QueryError("novelty", "not available for a history of several movies")
    values = {**values, "history": seeds, "exclude": sorted(_exclude_ids(excludes))}
    # name the query parameter, not the body field it became
    try:
        return HistoryRequest.model_validate(values).validate_seeds()
    except ValidationError as exc:
        raise QueryError(*_query_location(exc)) from None
    except QueryError as exc:
        raise QueryError("movie" if exc.parameter == "history" else exc.parameter, exc.message) from None


def _query_location(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    location = [part for part in error["loc"] if isinstance(part, str)]
    name = location[-1] if location else "movie"
    return ("movie" if name == "history" else name), error["msg"]


def _exclude_ids(values: list[str]) -> frozenset[int]:
    ids: set[int] = set()
    for value in values:
        for part in value.split(","):
            if len(ids) >= MAX_EXCLUDED:
                raise QueryError("exclude", f"at most {MAX_EXCLUDED} ids")
            part = part.strip()
            if not part:
                continue
            try:
                ids.add(int(part))
            except ValueError:
                raise QueryError("exclude", f"{part!r} is not a movie id") from None
    return frozenset(ids)


class Match(BaseModel):
    id: int | None = Field(description="Catalogue id of the resolved movie; null for text and popularity answers.")
    title: str | None
    method: MatchMethod = Field(description="Which resolution path answered.")
    score: float = Field(description="100 for exact, the rapidfuzz ratio for fuzzy, cosine similarity for text.")


class Alternative(BaseModel):
    id: int
    title: str
    year: int | None


class Recommendation(BaseModel):
    id: int
    title: str
    year: int | None
    genres: list[str]
    score: float = Field(description="Cosine similarity to the match (popularity share for popularity answers).")
    reasons: list[str] = Field(description="Why it was chosen: shared genres, weighty shared terms, decade.")


class RecommendResponse(BaseModel):
    request_id: str
    model_version: str
    query: str
    match: Match
    cold_start: bool = Field(description="True when the query named no known movie (text or popularity answer).")
    alternatives: list[Alternative] = Field(description="Other movies with the same title as the match.")
    recommendations: list[Recommendation]


class SeedMatch(BaseModel):
    query: str = Field(description="The seed as sent: its title, or its id.")
    match: Match | None = Field(description="The movie it resolved to; null when it names none (then in `unresolved`).")
    weight: float = Field(description="Its share in the answer: recent and higher-rated seeds weigh more; 0 when unresolved.")


class HistoryResponse(BaseModel):
    request_id: str
    model_version: str
    seeds: list[SeedMatch] = Field(description="Every seed, in the order sent.")
    unresolved: list[str] = Field(description="Seeds that named no catalogue movie; they are left out of the answer.")
    cold_start: bool = Field(description="True when no seed resolved: the answer is the latest seed's text, or popularity.")
    method: MatchMethod = Field(description="`history`, or the cold start's `text` or `popular`.")
    recommendations: list[Recommendation] = Field(description="None of the seeds; reasons name the seeds each came from.")


class Movie(BaseModel):
    id: int
    title: str
    year: int | None
    genres: list[str]
    popularity: float


class MovieHit(Movie):
    score: float = Field(description="How well the title matches the search (0..100).")


class FeedbackAction(StrEnum):
    click = "click"  # opened it: what online experiments credit
    like = "like"
    dislike = "dislike"
    watched = "watched"


class Feedback(BaseModel):
    request_id: str = Field(min_length=1, max_length=MAX_ANSWER_ID, pattern=r"^[A-Za-z0-9._-]+$")
    movie_id: int
    action: FeedbackAction


class FeedbackAccepted(BaseModel):
    status: str = "recorded"


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    model_version: str | None = None
    reason: str | None = None


class ModelInfo(BaseModel):
    version: str
    loaded_at: str
    age_hours: float | None = Field(description="Hours since the champion was trained (null when its manifest does not say).")
    evaluation: dict[str, Any] = Field(description="Scores the champion was evaluated with when trained.")
    data_matches: bool = Field(description="Whether the champion was trained on the catalogue and ratings configured now.")
    data_detail: str = Field(description="What differs, when something does.")
    manifest: dict[str, Any]
    reloads_ok: int
    reloads_failed: int
    last_reload_error: str | None


# A version id as a client may send it: no path separator, no leading dot (never a path)
VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,99}$"


class RegistryChange(BaseModel):
    event: str = Field(description="What the registry recorded: promoted or restored.")
    version: str | None = Field(description="The champion now.")
    previous: str | None = Field(description="The champion before.")
    reason: str | None
    serving: str | None = Field(description="What this process serves after reloading.")


class Reloaded(BaseModel):
    swapped: bool
    model_version: str | None
    last_reload_error: str | None


class Problem(BaseModel):
    detail: Any
    request_id: str | None = None
