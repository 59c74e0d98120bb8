"""`movie-r serve` on real sockets: a client cannot choose its address nor make a worker hold an unbounded request head."""

from __future__ import annotations

import contextlib
import socket
import time
from urllib.parse import urlsplit

import httpx

from movie_r.settings import Settings

from ..processes import start_api, stop


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _exchange(url: str, head: bytes, timeout: float = 10.0) -> bytes:
    """Send `head` on a new connection (the server may refuse it before the end) and read what comes back."""
    with socket.create_connection(_address(url), timeout=timeout) as connection:
        with contextlib.suppress(OSError):  # refused and closed mid-way: the answer is still in the socket
            connection.sendall(head)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def _status(response: bytes) -> int | None:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else None


def _feedback_codes(url: str, forwarded_for: list[str]) -> list[int]:
    body = {"request_id": "not-issued.0000000000000000", "movie_id": 1, "action": "dislike"}
    return [httpx.post(f"{url}/feedback", json=body, headers={"X-Forwarded-For": xff}).status_code for xff in forwarded_for]


def test_a_forged_forwarded_for_is_not_believed_without_a_trusted_proxy(trained_home: Settings) -> None:
    forged = [f"203.0.113.{n}" for n in range(6)]
    process, url = start_api(trained_home.home, {"MOVIE_R_FEEDBACK_PER_MINUTE": "3"})
    try:  # from 127.0.0.1, which uvicorn would trust by default: every post is this one client
        assert _feedback_codes(url, forged) == [422, 422, 422, 429, 429, 429]
    finally:
        stop(process)
    process, url = start_api(trained_home.home, {"MOVIE_R_FEEDBACK_PER_MINUTE": "3", "MOVIE_R_TRUSTED_PROXIES": "127.0.0.1"})
    try:  # a proxy that is trusted names each client: six clients, one post each
        assert _feedback_codes(url, forged) == [422] * 6
    finally:
        stop(process)


def test_request_heads_are_bounded_in_lines_headers_bytes_and_time(trained_home: Settings) -> None:
    process, url = start_api(trained_home.home, {"MOVIE_R_HEADER_TIMEOUT": "1"})
    try:
        ok = _exchange(url, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _status(ok) == 200
        many = b"".join(b"X-H%d: v\r\n" % n for n in range(150))
        assert _status(_exchange(url, b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")) == 431
        huge = b"X-Big: " + b"a" * (4 << 20) + b"\r\n"
        assert _status(_exchange(url, b"GET /health HTTP/1.1\r\nHost: x\r\n" + huge + b"\r\n")) == 431
        long_line = b"GET /health?" + b"q" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert _status(_exchange(url, long_line)) == 414
        started = time.monotonic()
        slow = _exchange(url, b"GET /health HTTP/1.1\r\nHost: x\r\n", timeout=8)  # and then nothing
        assert _status(slow) == 408 and time.monotonic() - started < 5
        with socket.create_connection(_address(url), timeout=8) as idle:  # connects, never sends
            started = time.monotonic()
            assert idle.recv(65536).startswith(b"HTTP/1.1 408") and time.monotonic() - started < 5
        assert httpx.get(f"{url}/health").status_code == 200  # and it still serves
    finally:
        stop(process)
    assert "Traceback" not in (trained_home.home / "serve.log").read_text()
