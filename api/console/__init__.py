"""The operator console: one page over the storage root, kept current by polling.

`GET /console` renders every panel server-side (Jinja2, autoescaped: titles, queries and
reasons are user-supplied text); the page's small script asks `GET /console/panels` for the
same panels again every few seconds and swaps them in. Charts are SVG drawn by the
templates; no file comes from a CDN, so the page works offline. Reports are served by
version id only, never by path.
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from movie_r.lifecycle.telemetry import read_events
from movie_r.settings import Settings
from movie_r.storage.registry import Registry
from movie_r_api.console import state as panels
from movie_r_api.console.experiment import experiment_view
from movie_r_api.console.traffic import WINDOWS, traffic
from movie_r_api.problems import UNEXPECTED, problem
from movie_r_api.schemas import VERSION_PATTERN

log = logging.getLogger(__name__)


def require_reader(request: Request) -> None:
    """With MOVIE_R_CONSOLE_TOKEN set, the console needs it: HTTP Basic (any user name, the token
    as password; browsers ask once and send it with the page's own requests) or a bearer token."""
    token = request.app.state.movie_r.settings.console_token
    if token is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            given = base64.b64decode(given, validate=True).decode("utf-8").partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            given = ""
    elif scheme.lower() != "bearer":
        given = ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise HTTPException(401, "the console needs MOVIE_R_CONSOLE_TOKEN", headers={"WWW-Authenticate": 'Basic realm="movie_r console"'})


router = APIRouter(tags=["console"], dependencies=[Depends(require_reader)])

# An HTML route's extra responses would be documented as text/html; its problems are JSON
PROBLEM_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
HTML_ROUTE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "MOVIE_R_CONSOLE_TOKEN is set and was not given.", "content": PROBLEM_JSON},
    500: {"description": UNEXPECTED[500]["description"], "content": PROBLEM_JSON},
}

TEMPLATES = FilePath(__file__).parent / "templates"
PANELS = ("now", "experiment", "history", "decisions", "traffic", "gaps")
# Directions a title or query could force on the text around it (Trojan Source): shown as their code point
BIDI_CONTROLS = {ord(c): f"[U+{ord(c):04X}]" for c in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"}
VERSION_ID = re.compile(VERSION_PATTERN)
POLL_MS = 3000
FRESH_SECONDS = 2.0  # panels computed once per this long, whatever the number of open tabs
TRAFFIC_FRESH_SECONDS = 10.0  # reading a day of events costs more; its charts move slowly anyway


@dataclass(frozen=True)
class Unreadable:
    """A panel whose files could not be read or shown: the panel says so, the others still render."""

    panel: str
    reason: str


class Console:
    """Renders the panels, caching each for a few seconds so many open tabs cost one read."""

    def __init__(self, settings: Settings, process: str) -> None:
        self.settings = settings
        self.process = process  # this process's events file stem: "this process" in the traffic panel
        self.registry = Registry.of(settings)
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, Any]] = {}
        self._said: dict[str, str] = {}  # the last failure logged per panel: one line per new reason, not per poll

    @cached_property
    def templates(self) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), auto_reload=False, finalize=_displayed
        )
        environment.filters["brief"] = brief
        return environment

    def state(self, serving: str | None, recommender: Any) -> dict[str, Any]:
        storage = self.settings.storage
        traffic = self._fresh("traffic", TRAFFIC_FRESH_SECONDS, lambda: self._traffic(recommender))
        if isinstance(traffic, Unreadable):
            traffic = {"traffic": traffic, "gaps": Unreadable("gaps", traffic.reason)}
        return {
            "now": self._fresh("now", FRESH_SECONDS, lambda: panels.now(self.settings, self.registry, serving)),
            "experiment": self._fresh("experiment", FRESH_SECONDS, lambda: experiment_view(self.registry, storage.metrics)),
            "history": self._fresh("history", FRESH_SECONDS, lambda: panels.history(self.registry, storage.reports.root)),
            "decisions": self._fresh("decisions", FRESH_SECONDS, lambda: panels.decisions(storage.reports.decisions)),
            **traffic,
        }

    def rendered(self, serving: str | None, recommender: Any, admin: bool) -> dict[str, Markup]:
        """Every panel's HTML; a panel that fails to read or render is replaced by what it could not do."""
        state = self.state(serving, recommender)
        macros = self.templates.get_template("panels.html").module
        render = {
            "now": lambda value: macros.now_panel(value, admin),
            "history": lambda value: macros.history_panel(value, admin),
            "experiment": macros.experiment_panel,
            "decisions": macros.decisions_panel,
            "traffic": macros.traffic_panel,
            "gaps": macros.gaps_panel,
        }
        html = {}
        for name in PANELS:
            value = state[name]
            if not isinstance(value, Unreadable):
                try:
                    html[name] = Markup(render[name](value))
                    continue
                except Exception as exc:  # data that reads but does not render: this panel only
                    value = self._unreadable(name, exc)
            html[name] = Markup(macros.unreadable_panel(value))
        return html

    def page(self, serving: str | None, recommender: Any, admin: bool, nonce: str) -> str:
        return self.templates.get_template("console.html").render(
            html=self.rendered(serving, recommender, admin),
            admin=admin,
            home=str(self.settings.home),
            process=self.process,
            generated=_clock(),
            poll_ms=POLL_MS,
            nonce=nonce,
            css=(TEMPLATES / "console.css").read_text(),
            js=(TEMPLATES / "console.js").read_text(),
        )

    def panels(self, serving: str | None, recommender: Any, admin: bool) -> dict[str, Any]:
        html = self.rendered(serving, recommender, admin)
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
        try:
            value = compute()
        except Exception as exc:  # a directory where a file should be, a torn record, bad bytes
            value = self._unreadable(name, exc)
        else:
            self._said.pop(name, None)
        with self._lock:
            self._cached[name] = (time.monotonic(), value)
        return value

    def _unreadable(self, panel: str, exc: Exception) -> Unreadable:
        reason = f"{type(exc).__name__}: {exc}"
        if self._said.get(panel) != reason:
            self._said[panel] = reason
            log.warning("console panel unreadable panel=%s reason=%r", panel, reason)
        return Unreadable(panel, reason)


def _displayed(value: Any) -> Any:
    """Every value a template prints: direction controls shown as their code point, not obeyed."""
    if isinstance(value, Markup):
        return Markup(str(value).translate(BIDI_CONTROLS))
    if isinstance(value, str):
        return value.translate(BIDI_CONTROLS)
    return value


def security_headers(csp: str) -> dict[str, str]:
    """What every console response carries: no framing, no sniffing, no caching, only its own resources."""
    return {
        "cache-control": "no-store",
        "content-security-policy": csp,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
    }


def page_policy(nonce: str) -> str:
    """The page runs its one inline script and style (by nonce) and talks to this service only."""
    return (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


# a report is the agent's static HTML: its own styles, no script at all
REPORT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'"
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"


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
    nonce = secrets.token_urlsafe(16)
    html = await run_in_threadpool(console_of(request).page, serving, recommender, _admin(request), nonce)
    return HTMLResponse(html, headers=security_headers(page_policy(nonce)))


@router.get("/console/panels", responses=UNEXPECTED, summary="The console's panels, rendered, for the page to swap in")
async def console_panels(request: Request) -> JSONResponse:
    serving, recommender = _serving(request)
    body = await run_in_threadpool(console_of(request).panels, serving, recommender, _admin(request))
    return JSONResponse(body, headers=security_headers(DATA_POLICY))


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
    html = await run_in_threadpool(panels.report_html, console_of(request).settings.storage.reports.root, version)
    return missing if html is None else HTMLResponse(html, headers=security_headers(REPORT_POLICY))


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
