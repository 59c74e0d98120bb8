"""Admin routes: reload the champion now, promote a version, roll back.

Enabled only when `MOVIE_R_ADMIN_TOKEN` is set, and only with it as a bearer token.
Promotion and rollback take the trainer lock like `movie-r promote` and `movie-r rollback`
(`movie_r.lifecycle.promotion`), so they never race a tick's promotion; they need `models/` writable,
which compose's API containers do not have (it is mounted read-only there), and say so.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from movie_r.errors import ArtifactError, MovieRError
from movie_r.lifecycle.promotion import promote, rollback, trainer_lock
from movie_r.storage.records import RegistryEvent
from movie_r.storage.registry import Registry
from movie_r_api.problems import UNEXPECTED, problem
from movie_r_api.schemas import VERSION_PATTERN, Problem, RegistryChange, Reloaded


def require_admin(
    request: Request,
    authorization: Annotated[str | None, Header(description="`Bearer <MOVIE_R_ADMIN_TOKEN>`.")] = None,
) -> None:
    """Bearer token from MOVIE_R_ADMIN_TOKEN, compared in constant time; no token, no admin."""
    token = request.app.state.movie_r.settings.admin_token
    if token is None:
        raise HTTPException(403, "admin routes are disabled: set MOVIE_R_ADMIN_TOKEN to enable them")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


router = APIRouter(
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={**UNEXPECTED, 401: {"model": Problem}, 403: {"model": Problem}},
)

CHANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such version."},
    409: {"model": Problem, "description": "A trainer holds the lock, or the version cannot serve."},
    503: {"model": Problem, "description": "models/ is not writable by this process."},
}


@router.post(
    "/admin/reload",
    response_model=Reloaded,
    summary="Load the version models/champion points at now, instead of at the next poll",
)
async def reload(request: Request) -> Any:
    watcher = request.app.state.movie_r.watcher
    swapped = await run_in_threadpool(watcher.check, True)
    return {"swapped": swapped, "model_version": watcher.current and watcher.current.version, "last_reload_error": watcher.last_error}


@router.post(
    "/admin/promote",
    response_model=RegistryChange,
    responses=CHANGE_ERRORS,
    summary="Make a version champion (like `movie-r promote --force`: verified servable, the promotion rule skipped)",
)
async def admin_promote(
    request: Request, version: Annotated[str, Query(pattern=VERSION_PATTERN, max_length=100, description="The version to make champion.")]
) -> Any:
    reason = "promoted by hand through the admin API (promotion rule skipped, like --force)"
    settings = request.app.state.movie_r.settings
    try:  # looked up before the lock is taken: a version that does not exist is a 404 wherever models/ is read-only
        await run_in_threadpool(Registry(settings.models_dir, settings.keys_path).get, version)
    except ArtifactError as exc:
        return problem(request, 404 if str(exc).startswith("no model version") else 409, str(exc))
    return await _change(request, f"promote {version}", lambda registry: promote(registry, version, reason))


@router.post(
    "/admin/rollback",
    response_model=RegistryChange,
    responses=CHANGE_ERRORS,
    summary="Return to the previous champion (like `movie-r rollback`)",
)
async def admin_rollback(request: Request) -> Any:
    return await _change(request, "roll back", lambda registry: rollback(registry, "rolled back through the admin API"))


async def _change(request: Request, doing: str, change: Callable[[Registry], RegistryEvent]) -> Any:
    """Run `change` under the trainer lock, then load the new champion here at once."""
    state = request.app.state.movie_r
    registry = Registry.of(state.settings)

    def locked() -> RegistryEvent:
        with trainer_lock(registry, 0, doing):
            return change(registry)

    try:
        event = await run_in_threadpool(locked)
    except ArtifactError as exc:
        status = 404 if str(exc).startswith("no model version") else 409
        return problem(request, status, str(exc))
    except MovieRError as exc:  # the trainer lock is held
        return problem(request, 409, str(exc))
    except OSError as exc:
        detail = (
            f"cannot {doing}: {state.settings.models_dir} is not writable by this process ({exc.strerror}); "
            "run `movie-r promote`/`rollback` where the agent runs (compose: docker-compose exec agent movie-r ...)"
        )
        return problem(request, 503, detail)
    await run_in_threadpool(state.watcher.check, True)
    loaded = state.watcher.current
    return JSONResponse(
        {"event": event.event, "version": event.version, "previous": event.previous, "reason": event.reason,
         "serving": loaded and loaded.version}  # fmt: skip
    )
