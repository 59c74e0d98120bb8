"""/docs and /redoc with their assets served by the service itself, so they work offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN: blank on a machine without
internet. The built files come from the PyPI package `fastapi-offline` (Swagger UI under
Apache-2.0, ReDoc under MIT, the package under MIT); only its files are used here.
"""

from __future__ import annotations

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

    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    return [
        Route("/docs", swagger, methods=["GET"], include_in_schema=False),
        Route("/redoc", redoc, methods=["GET"], include_in_schema=False),
        Mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets"),
    ]
