"""/docs and /redoc with their assets served by the service itself, so they work offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN: blank on a machine without
internet. The built files come from the PyPI package `fastapi-offline` (Swagger UI under
Apache-2.0, ReDoc under MIT, the package under MIT); only its files are used here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import fastapi_offline
from fastapi import Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route

ASSETS_URL = "/static/docs"
ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"


def docs_routes(title: str, openapi_url: str) -> list[BaseRoute]:
    """Swagger UI at /docs, ReDoc at /redoc, and the files both load, all same-origin."""

    def swagger(spec: str, assets: str) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=spec,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
        )

    def redoc(spec: str, assets: str) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=spec,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )

    def page(render: Callable[[str, str], HTMLResponse]) -> Callable[[Request], Awaitable[HTMLResponse]]:
        async def endpoint(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")  # behind a proxy that mounts the API under a prefix
            return render(f"{root}{openapi_url}", f"{root}{ASSETS_URL}")

        return endpoint

    return [
        Route("/docs", page(swagger), methods=["GET"], include_in_schema=False),
        Route("/redoc", page(redoc), methods=["GET"], include_in_schema=False),
        Mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets"),
    ]
