"""Error bodies every route answers with: `{"detail": ..., "request_id": ...}`."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

NO_CHAMPION = "no champion model is loaded yet"


def problem(request: Request, status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, "request_id": request.state.request_id}, status_code=status)
