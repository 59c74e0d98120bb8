"""Operational routes: liveness, readiness, the serving model, Prometheus."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from movie_r.lifecycle.data_match import data_match
from movie_r.storage.agent_status import read_status
from movie_r.storage.experiment_trace import ExperimentPoint, latest_point
from movie_r.storage.layout import MetricsLayout
from movie_r_api.problems import NO_CHAMPION, UNEXPECTED, problem
from movie_r_api.routing import RawRoute
from movie_r_api.schemas import Health, ModelInfo, Problem, Ready

router = APIRouter(tags=["operations"], responses=UNEXPECTED)


async def health(request: Request) -> Response:
    """Touches nothing but the socket: orchestrators call it often, and it must answer under load."""
    return Response(b'{"status":"ok"}', media_type="application/json")


router.add_api_route(
    "/health",
    health,
    methods=["GET"],
    route_class_override=RawRoute,
    response_model=Health,
    summary="Liveness: the process answers",
    description="200 while the process runs, with or without a champion; `/ready` says whether it can recommend.",
)


@router.get(
    "/ready",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "No champion loaded; `reason` says why."}},
    summary="Readiness: a champion is loaded",
)
async def ready(request: Request) -> Any:
    watcher = request.app.state.movie_r.watcher
    if watcher.current is None:
        reason = watcher.last_error or "no champion model yet (models/champion does not exist)"
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
    return {"status": "ready", "model_version": watcher.current.version}


@router.get(
    "/model",
    response_model=ModelInfo,
    responses={503: {"model": Problem, "description": "No champion loaded."}},
    summary="The serving champion: manifest, age, scores",
)
async def model(request: Request) -> Any:
    watcher = request.app.state.movie_r.watcher
    loaded = watcher.current
    if loaded is None:
        return problem(request, 503, NO_CHAMPION)
    manifest = loaded.manifest
    settings = request.app.state.movie_r.settings
    match = await run_in_threadpool(data_match, manifest.data, settings.catalog, settings.interactions)
    return {
        "version": loaded.version,
        "loaded_at": loaded.loaded_at.isoformat(),
        "age_hours": (datetime.now(UTC) - manifest.created_at).total_seconds() / 3600 if manifest.created_at else None,
        "evaluation": manifest.evaluation.model_dump(mode="json"),
        "data_matches": match.matches,
        "data_detail": match.detail,
        "manifest": manifest.model_dump(mode="json"),
        "reloads_ok": watcher.reloads_ok,
        "reloads_failed": watcher.reloads_failed,
        "last_reload_error": watcher.last_error,
    }


@router.get("/metrics", response_class=Response, summary="Prometheus metrics (text format)")
async def metrics(request: Request) -> Response:
    state = request.app.state.movie_r
    loaded = state.watcher.current
    state.metrics.observe_model(loaded and loaded.version, loaded and loaded.manifest.created_at and loaded.manifest.created_at.isoformat())
    state.metrics.events_dropped.set(state.events.dropped)
    experiment = state.watcher.experiment
    serving = experiment is not None and loaded is not None and experiment.record.champion == loaded.version
    state.metrics.observe_experiment(experiment.record if serving else None)
    state.metrics.observe_standing(_standing(state.settings.storage.metrics, state.metrics.followed_experiment))
    state.metrics.observe_agent(read_status(state.settings.metrics_dir))
    return Response(state.metrics.render(), media_type=state.metrics.content_type)


def _standing(metrics: MetricsLayout, experiment: str | None) -> ExperimentPoint | None:
    """The agent's latest tally of `experiment`: a few kilobytes of its trace's tail, never the events."""
    if experiment is None:
        return None
    try:
        return latest_point(metrics.experiment_trace(experiment))
    except (OSError, ValueError):  # ValueError: an id in experiment.json that names no file
        return None
