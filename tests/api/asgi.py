"""Driving the ASGI app in this process, without sockets or threads: what a request costs the
service itself, measured as CPU time, with nothing else of the machine in the figure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI


class InProcess:
    """Runs the app's lifespan once and sends it requests one after another on one event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._lifespan = app.router.lifespan_context(app)

    def __enter__(self) -> InProcess:
        self.loop.run_until_complete(self._lifespan.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        self.loop.close()

    def get(self, path: str) -> tuple[int, bytes]:
        return self.loop.run_until_complete(self._request(path))

    def cpu_seconds(self, paths: Iterable[str]) -> float:
        """CPU time of this process for answering `paths`, every answer checked to be a 200."""
        statuses: list[int] = []

        async def send_all() -> None:
            for path in paths:
                status, _ = await self._request(path)
                statuses.append(status)

        started = time.process_time()
        self.loop.run_until_complete(send_all())
        spent = time.process_time() - started
        failed = [status for status in statuses if status != 200]
        assert not failed, f"{len(failed)} of {len(statuses)} requests failed: {failed[:5]}"
        return spent

    async def _request(self, path: str) -> tuple[int, bytes]:
        route, _, query = path.partition("?")
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": route,
            "raw_path": route.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "app": self.app,
        }
        status = 0
        body = bytearray()

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        handler: Callable[..., Awaitable[None]] = self.app
        await handler(scope, receive, send)
        return status, bytes(body)
