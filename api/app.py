"""App factory, lifespan and the cross-cutting pieces: request ids, metrics, error bodies."""

from __future__ import annotations

import gc
import logging
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from movie_r.lifecycle.telemetry import EventWriter
from movie_r.periodic import Periodic
from movie_r.settings import Settings
from movie_r.storage.ownership import storage_problem
from movie_r.storage.registry import Registry
from movie_r_api import admin, catalogue, operations, recommend, request_ids
from movie_r_api.champion import ChampionWatcher
from movie_r_api.console import Console
from movie_r_api.console import router as console_router
from movie_r_api.docs import docs_routes
from movie_r_api.feedback import FeedbackLog, Once, RateLimit
from movie_r_api.forwarded import ForwardedClient, TrustedProxies
from movie_r_api.metrics import ApiMetrics
from movie_r_api.problems import problem
from movie_r_api.request_ids import RequestIds

log = logging.getLogger(__name__)

GC_THRESHOLDS = (50_000, 50, 100)


@dataclass
class AppState:
    """Everything the routes share; built in the lifespan, never at import time."""

    settings: Settings
    watcher: ChampionWatcher
    events: EventWriter
    metrics: ApiMetrics
    feedback: FeedbackLog
    feedback_once: Once
    feedback_rate: RateLimit
    request_ids: RequestIds
    console: Console | None = None  # built on the first visit: most replicas never render it


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Without `settings` they are read from the environment."""
    settings = settings or Settings()
    proxies = TrustedProxies(settings.trusted_proxies)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Fewer, larger young-generation collections: with the default thresholds, full
        # collections over the loaded model and the answer cache set the p99 under load.
        gc.set_threshold(*GC_THRESHOLDS)
        metrics = ApiMetrics()
        secret = settings.request_id_secret.get_secret_value() if settings.request_id_secret else None
        registry = Registry.of(settings)
        state = AppState(
            settings=settings,
            watcher=ChampionWatcher(
                registry,
                settings.watch_interval,
                settings.fuzzy_threshold,
                settings.cache_size,
                settings.warm_answers,
                settings.cache_mb << 20,
                on_reload=lambda result: metrics.reloads.labels(result).inc(),
            ),
            events=EventWriter(
                settings.storage.metrics.events,
                flush_interval=settings.events_flush_interval,
                rotate_bytes=settings.events_rotate_mb << 20,
                retention_days=settings.events_retention_days,
            ),
            metrics=metrics,
            feedback=FeedbackLog(settings.feedback_dir, settings.feedback_rotate_mb << 20, settings.feedback_retention_days),
            feedback_once=Once(),
            feedback_rate=RateLimit(settings.feedback_per_minute),
            request_ids=RequestIds.load(secret, settings.keys_path),
        )
        problem = storage_problem(settings.home, [settings.storage.metrics.root])
        if problem:  # answers still work; what they would record is dropped and counted
            log.error("%s; request events and feedback are dropped until then", problem)
        state.feedback.remove_expired()
        app.state.movie_r = state
        # replicas converge on the shared request-id secret, as the watcher converges on the champion
        secret_watch = Periodic("request-id-secret", request_ids.LOOK_AGAIN, state.request_ids.refresh)
        proxies.start()
        state.events.start()
        state.watcher.start()
        secret_watch.start()
        log.info("api started home=%s champion=%s", settings.home, state.watcher.current and state.watcher.current.version)
        try:
            yield
        finally:
            secret_watch.stop(timeout=5)
            proxies.stop()
            state.watcher.stop()
            state.events.close()
            log.info("api stopped events_written=%d events_dropped=%d", state.events.written, state.events.dropped)

    app = FastAPI(
        title="movie_r",
        summary="Movies like the one you name, from the current champion model.",
        version="1",
        lifespan=lifespan,
        # FastAPI's own OpenTelemetry hooks look for providers on every request; /metrics is ours
        telemetry={part: settings.opentelemetry for part in ("tracing", "metrics", "logs", "operation_spans")},
        # The routes themselves, not `include_router`: FastAPI 0.165 matches each included
        # router again on every request, a large share of a cheap route's cost.
        routes=[*recommend.router.routes, *catalogue.router.routes, *operations.router.routes, *admin.router.routes],
        docs_url=None,  # FastAPI's pages load their assets from a CDN; ours come from the service itself
        redoc_url=None,
    )
    app.router.routes.extend(docs_routes(app.title, app.openapi_url or "/openapi.json"))
    app.router.routes.extend(console_router.routes)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_kb << 10)
    app.add_middleware(SingleValuedQuery)
    app.add_middleware(HeadAsGet)
    app.add_middleware(RequestContext)
    app.add_middleware(ForwardedClient, proxies=proxies)  # outermost: every layer sees the real client
    return app


class BodyLimit:
    """Refuses request bodies over `max_bytes` with a 413, before any route reads them.

    A declared `Content-Length` over the limit is refused at once; a body sent without one
    is read up to the limit and no further.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        body, delivered = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = scope.get("state", {}).get("request_id")
        response = JSONResponse(
            {"detail": f"the request body is larger than {self.max_bytes} bytes", "request_id": request_id}, status_code=413
        )
        await response(scope, receive, send)


class HeadAsGet:
    """HEAD on any GET route: the GET's status and headers, without its body (health checks use it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


# names that may repeat: /recommend's `exclude`, and its `movie`/`movie_id` (schemas.RecommendQuery)
REPEATABLE = {"/recommend": frozenset({"exclude", "movie", "movie_id"})}


class SingleValuedQuery:
    """A parameter given twice is a 422 naming it: otherwise the last would silently win
    (`promote?version=nonexist&version=V2` promoted V2)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string") if scope["type"] == "http" else None
        if query and b"&" in query:
            repeatable = REPEATABLE.get(scope["path"], frozenset())
            repeated = [name for name in _repeated(query) if name not in repeatable]
            if repeated:
                detail = [{"loc": ["query", name], "msg": "given more than once; give it once", "type": "value_error"} for name in repeated]
                request_id = scope.get("state", {}).get("request_id")
                await JSONResponse({"detail": detail, "request_id": request_id}, status_code=422)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _repeated(query: bytes) -> list[str]:
    """The names given more than once. Raw names that hold no escape are the decoded names,
    so most query strings are settled without parsing them (this runs on every request, and
    a history repeats `movie` up to fifty times)."""
    raw = [part.partition(b"=")[0] for part in query.split(b"&")]
    escaped = any(b"%" in name or b"+" in name for name in raw)
    if not escaped and len(set(raw)) == len(raw):
        return []
    if escaped:
        names = [name for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)]
    else:
        names = [name.decode("latin-1") for name in raw]
    counts = Counter(names)
    return sorted(name for name, count in counts.items() if count > 1) if len(counts) < len(names) else []


class RequestContext:
    """Pure ASGI middleware: request id in and out, request count and latency per route.

    Cheaper than `BaseHTTPMiddleware`, which matters on a 2-core box serving thousands of
    requests a second.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        movie_r = getattr(getattr(scope.get("app"), "state", None), "movie_r", None)
        request_id = movie_r.request_ids.issue(_client_request_id(scope)) if movie_r else secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                issued = scope["state"]["request_id"]  # a served answer's id replaces the first one
                message["headers"] = [*message["headers"], (b"x-request-id", issued.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if movie_r is not None:
                route = scope.get("route")
                endpoint = getattr(route, "path", "unmatched")
                movie_r.metrics.observe_request(endpoint, status, time.perf_counter() - started)


def _client_request_id(scope: Scope) -> str | None:
    """The client's own `X-Request-ID`, which becomes the base of the id the service issues."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            return value.decode("latin-1")
    return None


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each bad parameter, with the request id, like every other error body."""
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return problem(request, 422, detail)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A generic 500 that leaks nothing; the traceback goes to the log with the request id."""
    request_id = getattr(request.state, "request_id", None)
    log.error("unhandled error request_id=%s path=%s", request_id, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "internal error", "request_id": request_id},
        status_code=500,
        headers={"x-request-id": request_id or ""},
    )
