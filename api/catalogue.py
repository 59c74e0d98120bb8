"""GET /movies: title search for autocomplete, and one movie by id."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from movie_r.answering.inference import MAX_QUERY_LENGTH
from movie_r.errors import UnknownMovieError
from movie_r_api.problems import NO_CHAMPION, UNEXPECTED, problem
from movie_r_api.schemas import Movie, MovieHit, Problem

router = APIRouter(tags=["catalogue"], responses=UNEXPECTED)

NO_CHAMPION_RESPONSE = {"model": Problem, "description": "No champion model is loaded yet."}


@router.get("/movies", response_model=list[MovieHit], responses={503: NO_CHAMPION_RESPONSE}, summary="Search titles")
async def search_movies(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_LENGTH, description="A title prefix or words.")],
    limit: Annotated[int, Query(ge=1, le=50, description="How many titles at most.")] = 10,
) -> Any:
    unknown = _unknown_parameters(request, {"q", "limit"})
    if unknown:
        return unknown
    loaded = request.app.state.movie_r.watcher.current
    if loaded is None:
        return problem(request, 503, NO_CHAMPION)
    recommender = loaded.recommender
    return [{**recommender.movie(row), "score": score} for row, score in recommender.titles.search(q, limit)]


@router.get(
    "/movies/{movie_id}",
    response_model=Movie,
    responses={404: {"model": Problem, "description": "No movie with that id."}, 503: NO_CHAMPION_RESPONSE},
    summary="One movie",
)
async def get_movie(request: Request, movie_id: Annotated[int, Path(description="Catalogue id.")]) -> Any:
    unknown = _unknown_parameters(request, set())
    if unknown:
        return unknown
    loaded = request.app.state.movie_r.watcher.current
    if loaded is None:
        return problem(request, 503, NO_CHAMPION)
    try:
        return loaded.recommender.movie(loaded.recommender.row_index(movie_id))
    except UnknownMovieError as exc:
        return problem(request, 404, str(exc))


def _unknown_parameters(request: Request, known: set[str]) -> Any:
    """A 422 naming every parameter the route does not take, or None: a typo must not pass for a default."""
    unknown = sorted(set(request.query_params) - known)
    if not unknown:
        return None
    return problem(request, 422, [{"loc": ["query", name], "msg": "unknown parameter", "type": "extra_forbidden"} for name in unknown])
