"""The operator console: one page over the storage root, kept current by polling.

`GET /console` renders every panel server-side (Jinja2, autoescaped: titles, queries and
reasons are user-supplied text); the page's small script asks `GET /console/panels` for the
same panels again every few seconds and swaps them in. Charts are SVG drawn by the
templates; no file comes from a CDN, so the page works offline. Reports are served by
version id only, never by path.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from movie_r.lifecycle.telemetry import read_events
from movie_r.settings import Settings
from movie_r.storage.registry import Registry
from movie_r_api.console import state as panels
from movie_r_api.console.traffic import WINDOWS, traffic
from movie_r_api.problems import UNEXPECTED, problem
from movie_r_api.schemas import VERSION_PATTERN

router = APIRouter(tags=["console"])

# An HTML route's extra responses would be documented as text/html; its problems are JSON
PROBLEM_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
HTML_ROUTE_ERRORS: dict[int | str, dict[str, Any]] = {
    500: {"description": UNEXPECTED[500]["description"], "content": PROBLEM_JSON},
}

TEMPLATES = FilePath(__file__).parent / "templates"
VERSION_ID = re.compile(VERSION_PATTERN)
POLL_MS = 3000
FRESH_SECONDS = 2.0  # panels computed once per this long, whatever the number of open tabs
TRAFFIC_FRESH_SECONDS = 10.0  # reading a day of events costs more; its charts move slowly anyway


class Console:
    """Renders the panels, caching each for a few seconds so many open tabs cost one read."""

    def __init__(self, settings: Settings, process: str) -> None:
        self.settings = settings
        self.process = process  # this process's events file stem: "this process" in the traffic panel
        self.registry = Registry.of(settings)
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, Any]] = {}

    @cached_property
    def templates(self) -> Environment:
        environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False)
        environment.filters["brief"] = brief
        return environment

    def state(self, serving: str | None, recommender: Any) -> dict[str, Any]:
        storage = self.settings.storage
        return {
            "now": self._fresh("now", FRESH_SECONDS, lambda: panels.now(self.settings, self.registry, serving)),
            "history": self._fresh("history", FRESH_SECONDS, lambda: panels.history(self.registry, storage.reports.root)),
            "decisions": self._fresh("decisions", FRESH_SECONDS, lambda: panels.decisions(storage.reports.decisions)),
            **self._fresh("traffic", TRAFFIC_FRESH_SECONDS, lambda: self._traffic(recommender)),
        }

    def page(self, serving: str | None, recommender: Any, admin: bool) -> str:
        return self.templates.get_template("console.html").render(
            state=self.state(serving, recommender),
            admin=admin,
            home=str(self.settings.home),
            process=self.process,
            generated=_clock(),
            poll_ms=POLL_MS,
            css=(TEMPLATES / "console.css").read_text(),
            js=(TEMPLATES / "console.js").read_text(),
        )

    def panels(self, serving: str | None, recommender: Any, admin: bool) -> dict[str, Any]:
        state = self.state(serving, recommender)
        macros = self.templates.get_template("panels.html").module
        html = {
            "now": macros.now_panel(state["now"], admin),
            "history": macros.history_panel(state["history"], admin),
            "decisions": macros.decisions_panel(state["decisions"]),
            "traffic": macros.traffic_panel(state["traffic"]),
            "gaps": macros.gaps_panel(state["gaps"]),
        }
        return {"generated": _clock(), "html": {name: str(body) for name, body in html.items()}}

    def _traffic(self, recommender: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        since = now - max(w.span for w in WINDOWS)
        events = list(read_events(self.settings.metrics_dir, since))
        mine = list(read_events(self.settings.metrics_dir, since, self.process))
        views = [traffic(events, window, "all replicas", now) for window in WINDOWS]
        views += [traffic(mine, window, "this process", now) for window in WINDOWS]
        last_day = [e for e in events if e.timestamp >= (now - timedelta(days=1)).timestamp()]
        return {"traffic": views, "gaps": panels.gaps(last_day, recommender)}

    def _fresh(self, name: str, seconds: float, compute: Any) -> Any:
        with self._lock:
            cached = self._cached.get(name)
            if cached is not None and time.monotonic() - cached[0] < seconds:
                return cached[1]
        value = compute()
        with self._lock:
            self._cached[name] = (time.monotonic(), value)
        return value


def console_of(request: Request) -> Console:
    state = request.app.state.movie_r
    if state.console is None:
        state.console = Console(state.settings, state.events.path.stem)
    return state.console


def _serving(request: Request) -> tuple[str | None, Any]:
    loaded = request.app.state.movie_r.watcher.current
    return (loaded.version, loaded.recommender) if loaded is not None else (None, None)


def _admin(request: Request) -> bool:
    return request.app.state.movie_r.settings.admin_token is not None


@router.get("/console", response_class=HTMLResponse, responses=HTML_ROUTE_ERRORS, summary="The operator console (HTML)")
async def console_page(request: Request) -> HTMLResponse:
    serving, recommender = _serving(request)
    html = await run_in_threadpool(console_of(request).page, serving, recommender, _admin(request))
    return HTMLResponse(html, headers={"cache-control": "no-store"})


@router.get("/console/panels", responses=UNEXPECTED, summary="The console's panels, rendered, for the page to swap in")
async def console_panels(request: Request) -> JSONResponse:
    serving, recommender = _serving(request)
    body = await run_in_threadpool(console_of(request).panels, serving, recommender, _admin(request))
    return JSONResponse(body, headers={"cache-control": "no-store"})


@router.get(
    "/console/reports/{version}",
    response_class=HTMLResponse,
    responses={**HTML_ROUTE_ERRORS, 404: {"description": "No report for this version.", "content": PROBLEM_JSON}},
    summary="A version's promotion report",
)
async def console_report(request: Request, version: Annotated[str, Path(description="A version id.")]) -> Response:
    """Only a version id names a report: nothing the client sends becomes a path."""
    missing = problem(request, 404, f"no report for version {version[:100]!r}")
    if not VERSION_ID.match(version):
        return missing
    path = console_of(request).settings.storage.reports.report(version, ".html")
    try:
        return HTMLResponse(path.read_text(encoding="utf-8"), headers={"cache-control": "no-store"})
    except (OSError, UnicodeDecodeError):
        return missing


def brief(value: Any) -> str:
    """A trigger's value or threshold in a table cell: numbers to 3 digits, fingerprints shortened."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(brief(item) for item in value) or "none"
    text = str(value)
    return text if len(text) <= 16 else text[:12] + "…"


def _clock() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S UTC") + f" ({socket.gethostname()})"
