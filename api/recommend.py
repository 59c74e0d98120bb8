"""GET /recommend and POST /feedback: the routes HTTP clients call."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from api.answers import Answer, response_body
from api.problems import NO_CHAMPION, UNEXPECTED, problem
from api.routing import RawRoute
from api.schemas import Feedback, FeedbackAccepted, Problem, RecommendQuery, RecommendResponse
from movie_r.errors import QueryError, UnknownMovieError
from movie_r.inference import MAX_QUERY_LENGTH, Filters, validate_query

log = logging.getLogger("api.recommend")
router = APIRouter(tags=["recommend"], responses=UNEXPECTED)

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No movie with that id."},
    422: {"model": Problem, "description": "A parameter is unusable; `detail[].loc` names it."},
    503: {"model": Problem, "description": "No champion model is loaded yet."},
}


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI query parameters described by a pydantic model, for routes that validate it themselves."""
    schema = model.model_json_schema()
    return [
        {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", []),
            "description": field.get("description", ""),
            "schema": {key: value for key, value in field.items() if key not in ("description", "title")},
        }
        for name, field in schema["properties"].items()
    ]


async def recommend(request: Request) -> Response:
    """Validates its query with one pydantic call instead of FastAPI's per-parameter dependency
    solving (served as a `RawRoute`, which skips that machinery: a quarter of the route's
    instructions, callgrind); same model, same 422s."""
    started = time.perf_counter()
    state = request.app.state.movie_r
    try:
        params = RecommendQuery.model_validate(_query_values(request.scope["query_string"]))
    except ValidationError as exc:
        detail = [{"loc": ["query", *error["loc"][:1]], "msg": error["msg"], "type": error["type"]} for error in exc.errors()]
        return record_failure(request, 422, started, detail)
    loaded = state.watcher.current
    if loaded is None:
        return record_failure(request, 503, started, NO_CHAMPION)
    try:
        filters = Filters(params.genre, params.year_min, params.year_max, _exclude_ids(params.exclude))
        validate_query(params.movie, params.movie_id, params.k)
        answer = loaded.answers.get(params.movie, params.movie_id, params.k, filters)
    except QueryError as exc:
        return record_failure(request, 422, started, [_problem(exc.parameter, exc.message)], loaded.version)
    except UnknownMovieError as exc:
        return record_failure(request, 404, started, str(exc), loaded.version)
    request_id = request.state.request_id
    state.events.emit(_served_event(request_id, answer, params.k, loaded.version, started))
    state.metrics.observe_answer(answer.method, answer.cold_start, answer.mean_similarity)
    return Response(
        response_body(request_id, loaded.version, answer),
        media_type="application/json",
        headers={"x-model-version": loaded.version},
    )


router.add_api_route(
    "/recommend",
    recommend,
    methods=["GET"],
    route_class_override=RawRoute,
    response_model=None,
    responses={200: {"model": RecommendResponse, "description": "Movies like the one asked for."}, **ERRORS},
    summary="Movies similar to a title, an id, or a description",
    description="Give exactly one of `movie` (a title, typos and odd casing welcome, or free text) and "
    "`movie_id`. A query that names no catalogue title is a cold start, answered from its words "
    "(`match.method` text) or by popularity.",
    openapi_extra={"parameters": query_parameters(RecommendQuery)},
)


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackAccepted,
    responses={404: ERRORS[404], 503: {"model": Problem, "description": "No champion, or the log is unwritable."}},
    summary="Record what a user did with a recommendation",
)
def feedback(request: Request, body: Feedback) -> Any:
    state = request.app.state.movie_r
    loaded = state.watcher.current
    if loaded is None:
        return problem(request, 503, NO_CHAMPION)
    if body.movie_id not in loaded.recommender.row_of_id:
        return problem(request, 404, f"no movie with id {body.movie_id}")
    event = {
        "time": datetime.now(timezone.utc).isoformat(),
        "request_id": body.request_id,
        "movie_id": body.movie_id,
        "action": body.action.value,
        "model_version": loaded.version,
    }
    try:
        state.feedback.append(event)
    except OSError as exc:
        log.error("feedback not recorded request_id=%s reason=%r", body.request_id, exc)
        return problem(request, 503, "feedback could not be recorded; try again later")
    state.metrics.feedback.labels(body.action.value).inc()
    return FeedbackAccepted()


def record_failure(
    request: Request, status: int, started: float, detail: Any = None, version: str | None = None
) -> JSONResponse:
    """Answer a failed /recommend and keep its runtime event, like a served one."""
    state = request.app.state.movie_r
    state.events.emit(
        {
            **_event_base(request.state.request_id, version, started),
            "status": status,
            "k": request.query_params.get("k"),
            "query": request.query_params.get("movie", "")[:MAX_QUERY_LENGTH],
        }
    )
    return problem(request, status, detail)


def _served_event(request_id: str, answer: Answer, k: int, version: str, started: float) -> dict[str, Any]:
    return {
        **_event_base(request_id, version, started),
        "status": 200,
        "method": answer.method,
        "match_id": answer.match_id,
        "cold_start": answer.cold_start,
        "k": k,
        "returned": answer.returned,
        "top1_similarity": answer.top1_similarity,
        "mean_similarity": answer.mean_similarity,
        "query": answer.query,
    }


def _event_base(request_id: str, version: str | None, started: float) -> dict[str, Any]:
    now = time.time()
    return {
        "time": datetime.fromtimestamp(now, timezone.utc),  # the event writer's orjson writes it as isoformat() would
        "ts": now,
        "endpoint": "recommend",
        "request_id": request_id,
        "model_version": version,
        "latency_ms": (time.perf_counter() - started) * 1000,
    }


def _query_values(query_string: bytes) -> dict[str, Any]:
    """Query parameters as the model expects them: the last value of each, every `exclude`.

    Parsed as Starlette parses `request.query_params`, without building its multidict.
    """
    values: dict[str, Any] = {}
    excludes = []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == "exclude":
            excludes.append(value)
        else:
            values[name] = value
    if excludes:
        values["exclude"] = excludes
    return values


def _exclude_ids(values: list[str]) -> frozenset[int]:
    ids = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                ids.add(int(part))
            except ValueError:
                raise QueryError("exclude", f"{part!r} is not a movie id") from None
    return frozenset(ids)


def _problem(parameter: str, message: str) -> dict[str, Any]:
    return {"loc": ["query", parameter], "msg": message, "type": "value_error"}
