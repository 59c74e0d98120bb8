"""A route class for endpoints that read the Request and build the Response themselves."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class RawRoute(APIRoute):
    """Documented like any FastAPI route, but served without FastAPI's per-request work.

    The endpoint takes the `Request` and returns a `Response`: no dependency solving (which
    parses query, headers and cookies the endpoint then ignores) and no response validation.
    For the hot routes only; they describe their parameters through `openapi_extra`.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint
