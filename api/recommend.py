"""GET /recommend and POST /feedback: the routes HTTP clients call."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from movie_r.answering.history import MAX_SEEDS
from movie_r.answering.inference import MAX_QUERY_LENGTH
from movie_r.errors import QueryError, UnknownMovieError
from movie_r.storage.records import FeedbackEvent
from movie_r_api.answers import Answer, response_body
from movie_r_api.experiment import in_experiment
from movie_r_api.problems import NO_CHAMPION, UNEXPECTED, problem
from movie_r_api.routing import RawRoute
from movie_r_api.schemas import (
    SEED_NAMES,
    Feedback,
    FeedbackAccepted,
    HistoryRequest,
    HistoryResponse,
    Problem,
    RecommendQuery,
    RecommendResponse,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["recommend"], responses=UNEXPECTED)

MAX_QUERY_STRING = 8192  # bytes: the longest valid query (200-character title, 500 excluded ids) fits

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No movie with that id."},
    414: {"model": Problem, "description": "The query string is too long."},
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
        for name, field in sorted(schema["properties"].items(), key=lambda item: item[0] not in SEED_NAMES)
    ]  # the movie asked about first, as a reader of the docs looks for it (the model lists shared fields first)


async def recommend(request: Request) -> Response:
    """Served as a `RawRoute`: the query is validated by `RecommendQuery.from_query_string`
    (same model, same 422s) and answers come from the loaded model's cache by query string."""
    started = time.perf_counter()
    state = request.app.state.movie_r
    query_string = request.scope["query_string"]
    loaded = state.watcher.current
    version = loaded and loaded.version
    if len(query_string) > MAX_QUERY_STRING:  # checked before anything is parsed or cached
        return record_failure(request, 414, started, f"the query string is longer than {MAX_QUERY_STRING} bytes", version)
    try:
        if loaded is None:
            RecommendQuery.from_query_string(query_string)  # an unusable query is a 422 before a 503
            return record_failure(request, 503, started, NO_CHAMPION)
        answer, k = loaded.answers.for_query_string(query_string)
    except ValidationError as exc:
        detail = [{"loc": ["query", *error["loc"][:1]], "msg": error["msg"], "type": error["type"]} for error in exc.errors()]
        return record_failure(request, 422, started, detail, version)
    except QueryError as exc:
        return record_failure(request, 422, started, [_problem(exc.parameter, exc.message)], version)
    except UnknownMovieError as exc:
        return record_failure(request, 404, started, str(exc), version)
    return _served(request, loaded, answer, k, started, query_string)


async def recommend_history(request: Request, body: HistoryRequest) -> Response:
    """POST /recommend: a history too long for a query string, with ratings and times."""
    started = time.perf_counter()
    loaded = request.app.state.movie_r.watcher.current
    try:
        body.validate_seeds()
        if loaded is None:
            return record_failure(request, 503, started, NO_CHAMPION)
        answer = loaded.answers.for_history(body)
    except QueryError as exc:
        detail = [_problem(exc.parameter, exc.message, "body")]
        return record_failure(request, 422, started, detail, loaded and loaded.version)
    return _served(request, loaded, answer, body.k, started)


def _served(request: Request, loaded: Any, answer: Answer, k: int, started: float, query_string: bytes | None = None) -> Response:
    """Send a computed answer: within the running experiment where it takes part, with an id
    that cites its movies, its event and its metrics."""
    state = request.app.state.movie_r
    request_id = request.state.request_id
    version, headers, online = loaded.version, {"x-model-version": loaded.version}, {}
    experiment = state.watcher.experiment
    # a history is the champion's alone: experiments compare answers to one movie, which both models cache
    if experiment is not None and experiment.record.champion == loaded.version and query_string is not None and not answer.seeds:
        client = request.client.host if request.client else "unknown"
        served = in_experiment(experiment, answer, version, query_string, request_id, state.request_ids.source(client))
        if served is not None:
            answer, version, online = served
            headers = {"x-model-version": version, "x-experiment": experiment.id}
            state.metrics.observe_experiment_answer(experiment.id, experiment.record.mode.value)
    # the id of a served answer names its version and movies, so feedback can be checked against it
    request_id = state.request_ids.issue_answer(request_id, answer.cited)
    request.state.request_id = request_id
    state.events.emit(_served_event(request_id, answer, k, version, started, **online))
    state.metrics.observe_answer(answer.method, answer.cold_start, answer.mean_similarity)
    return Response(response_body(request_id, version, answer), media_type="application/json", headers=headers)


router.add_api_route(
    "/recommend",
    recommend,
    methods=["GET"],
    route_class_override=RawRoute,
    response_model=None,
    responses={
        200: {
            "model": RecommendResponse | HistoryResponse,
            "description": "Movies like the one asked for; for several, a history's answer (as POST gives).",
        },
        **ERRORS,
    },
    summary="Movies similar to a title, an id, or a description; or for a history of several",
    description="Give one of `movie` (a title, typos and odd casing welcome, or free text) and "
    "`movie_id`. A query that names no catalogue title is a cold start, answered from its words "
    "(`match.method` text) or by popularity. Several `movie`/`movie_id` parameters are a history "
    f"(up to {MAX_SEEDS}, in the order watched, latest last), answered as POST answers one.",
    openapi_extra={"parameters": query_parameters(RecommendQuery)},
)
router.add_api_route(
    "/recommend",
    recommend_history,
    methods=["POST"],
    response_model=None,
    responses={
        200: {"model": HistoryResponse, "description": "Movies for someone who watched the history."},
        413: {"model": Problem, "description": "The body is larger than the service accepts."},
        **{status: ERRORS[status] for status in (422, 503)},
    },
    summary="Movies for a history: what a person watched, oldest first",
    description="The seeds' lists are combined by the model's own scores, recent and higher-rated seeds "
    "weighing more; no seed is recommended, and each recommendation's reasons name the seeds it came "
    "from. A seed that names no movie is reported in `unresolved`; when none resolves, the answer is a "
    "cold start from the latest seed's words, as for one title.",
)


@router.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackAccepted,
    responses={
        409: {"model": Problem, "description": "This action on this movie of this request is already recorded."},
        413: {"model": Problem, "description": "The body is larger than the service accepts."},
        422: {
            "model": Problem,
            "description": "A field is unusable, `request_id` is not an answer this service gave, or `movie_id` was not in it.",
        },
        429: {"model": Problem, "description": "Too much feedback from this client; `Retry-After` says when to retry."},
        503: {"model": Problem, "description": "The log is unwritable."},
    },
    summary="Record what a user did with a recommendation",
    description="`request_id` is the one a `/recommend` answer carried and `movie_id` one of the movies it "
    "recommended: feedback on anything else is refused.",
)
def feedback(request: Request, body: Feedback) -> Any:
    state = request.app.state.movie_r
    client = request.client.host if request.client else "unknown"
    wait = state.feedback_rate.wait(client)
    if wait > 0:
        return problem(request, 429, "too much feedback from this client; slow down", {"retry-after": str(int(wait) + 1)})
    cited = state.request_ids.cited(body.request_id)
    if cited is None:
        return problem(request, 422, [_field("request_id", "not the request id of an answer this service gave")])
    if body.movie_id not in cited.movie_ids:
        return problem(request, 422, [_field("movie_id", f"movie {body.movie_id} is not one the cited answer recommended")])
    if not state.feedback_once.first((body.request_id, body.action.value, body.movie_id)):
        return problem(
            request, 409, f"{body.action.value} of movie {body.movie_id} is already recorded for request {body.request_id}"
        )
    event = FeedbackEvent(
        time=datetime.now(UTC),
        request_id=body.request_id,
        movie_id=body.movie_id,
        action=body.action.value,
        model_version=cited.version,  # the version that served the answer, whatever serves now
        source=state.request_ids.source(client),
    )
    try:
        state.feedback.append(event)
    except OSError as exc:
        log.error("feedback not recorded request_id=%s reason=%r", body.request_id, exc)
        return problem(request, 503, "feedback could not be recorded; try again later")
    state.metrics.feedback.labels(body.action.value).inc()
    return FeedbackAccepted()


def record_failure(request: Request, status: int, started: float, detail: Any = None, version: str | None = None) -> JSONResponse:
    """Answer a failed /recommend and keep its runtime event, like a served one."""
    state = request.app.state.movie_r
    state.events.emit(
        _event(
            request.state.request_id,
            version,
            started,
            status=status,
            k=request.query_params.get("k"),
            query=request.query_params.get("movie", "")[:MAX_QUERY_LENGTH],
        )
    )
    return problem(request, status, detail)


def _served_event(request_id: str, answer: Answer, k: int, version: str, started: float, **online: Any) -> dict[str, Any]:
    event = _event(request_id, version, started)
    event.update(
        status=200,
        method=answer.method,
        match_id=answer.match_id,
        cold_start=answer.cold_start,
        k=k,
        returned=answer.returned,
        top1_similarity=answer.top1_similarity,
        mean_similarity=answer.mean_similarity,
        query=answer.query,
        **online,
    )
    if answer.seeds:
        event["seeds"] = answer.seeds
    return event


def _event(request_id: str, version: str | None, started: float, **outcome: Any) -> dict[str, Any]:
    """The fields of this request's `RequestEvent`, as `EventWriter.emit` takes them: building and
    serialising the model was a large share of a cached answer's cost (`telemetry`'s docstring)."""
    now = time.time()
    return {
        "ts": now,
        "time": datetime.fromtimestamp(now, UTC),
        "request_id": request_id,
        "model_version": version,
        "latency_ms": (time.perf_counter() - started) * 1000,
        **outcome,
    }


def _problem(parameter: str, message: str, where: str = "query") -> dict[str, Any]:
    return {"loc": [where, parameter], "msg": message, "type": "value_error"}


def _field(name: str, message: str) -> dict[str, Any]:
    return {"loc": ["body", name], "msg": message, "type": "value_error"}
