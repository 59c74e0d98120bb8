"""Error bodies every route answers with: `{"detail": ..., "request_id": ...}`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from movie_r_api.schemas import Problem

NO_CHAMPION = "no champion model is loaded yet"

# every router documents the generic 500 that `movie_r_api.app.unexpected_error` answers
UNEXPECTED: dict[int | str, dict[str, Any]] = {
    500: {"model": Problem, "description": "Unexpected error; details are in the server log."}
}


def problem(request: Request, status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "request_id": request.state.request_id}, status_code=status, headers=headers)
