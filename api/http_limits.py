"""What one HTTP connection may make a worker hold before the app sees a request.

uvicorn's httptools protocol keeps a request line and headers of any size and any number,
and waits for them forever: a client could make a worker hold hundreds of MB, or keep
thousands of sockets open without sending a byte. `BoundedHttpToolsProtocol` is that
protocol with limits: the request line (414), the number of headers and the bytes of the
whole head (431), and the time the head may take to arrive (408, counted from the
connection or from the first byte of the next request on a kept-alive one).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_REQUEST_LINE = 16 << 10  # bytes of the target: /recommend's longest valid query string is 8 KB
MAX_HEADERS = 100
MAX_HEAD_BYTES = 64 << 10  # request line and headers together
DEFAULT_HEADER_TIMEOUT = 10.0


class ServeConfig(uvicorn.Config):
    """uvicorn's configuration and the seconds a request's head may take (`MOVIE_R_HEADER_TIMEOUT`)."""

    def __init__(self, app: Any, header_timeout: float = DEFAULT_HEADER_TIMEOUT, **options: Any) -> None:
        super().__init__(app, **options)
        self.header_timeout = header_timeout


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing a head over a limit."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout = getattr(config, "header_timeout", DEFAULT_HEADER_TIMEOUT)
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = True  # from the connection (or a request's first byte) to its last header
        self._head_bytes = 0
        self._line_bytes = 0
        self._headers = 0
        self._refusal: tuple[int, str] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES and self._refusal is None:
            self._refusal = (431, f"request head larger than {MAX_HEAD_BYTES} bytes")
            self.send_400_response("")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_head:  # the next request on a kept-alive connection
            self._in_head, self._head_bytes = True, 0
            self._arm_head_timer()
        self._line_bytes = self._headers = 0

    def on_url(self, url: bytes) -> None:
        self._line_bytes += len(url)
        if self._line_bytes > MAX_REQUEST_LINE:
            self._refuse(414, f"request target longer than {MAX_REQUEST_LINE} bytes")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers += 1
        if self._headers > MAX_HEADERS:
            self._refuse(431, f"more than {MAX_HEADERS} headers")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a head the parser refused; ours names the limit that refused it."""
        if self._refusal is None:
            super().send_400_response(msg)
            return
        status, reason = self._refusal
        body = reason.encode()
        self.transport.write(
            STATUS_LINE[status]
            + b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body)
            + body
        )
        self.transport.close()

    def _refuse(self, status: int, reason: str) -> None:
        self._refusal = (status, reason)
        raise _Refused(reason)  # httptools turns it into an HttpParserError: uvicorn calls send_400_response

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refusal = (408, f"request head not received within {self.header_timeout:g} s")
            self.send_400_response("")
