"""Starting and stopping real service processes for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(interval)
    return False


def movie_r_process(args: list[str], home: Path, env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen:
    """`movie-r ARGS --home HOME` as its own process group, output to `log`."""
    environment = {**os.environ, "MOVIE_R_HOME": str(home), **(env or {})}
    home.mkdir(parents=True, exist_ok=True)
    output = open(log or home / f"{args[0]}.log", "ab")  # noqa: SIM115 -- the child writes to it until stopped
    return subprocess.Popen(
        [sys.executable, "-m", "movie_r.cli.main", *args, "--home", str(home)],
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_api(home: Path, env: dict[str, str] | None = None, ready_timeout: float = 30) -> tuple[subprocess.Popen, str]:
    """A real uvicorn serving `home` on a free port; returns once /health answers."""
    port = free_port()
    process = movie_r_process(["serve", "--port", str(port)], home, {"MOVIE_R_WATCH_INTERVAL": "0.2", **(env or {})})
    url = f"http://127.0.0.1:{port}"
    if not wait_until(lambda: httpx.get(f"{url}/health").status_code == 200, ready_timeout):
        stop(process)
        raise RuntimeError(f"API did not start; see {home / 'serve.log'}")
    return process, url


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    """Signal the process group and wait; kill it if it does not finish in time."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


class Traffic:
    """Background clients calling /recommend until stopped; every outcome (status, or the
    exception's name) and every serving version is counted."""

    def __init__(self, url: str, queries: list[str], clients: int = 4, pause: float = 0.0) -> None:
        self.url, self.queries, self.pause = url, queries, pause
        self.outcomes: Counter[str] = Counter()
        self.versions: list[str] = []
        self.failed_at: list[float] = []  # time.monotonic() of every failure
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    @property
    def failures(self) -> dict[str, int]:
        return {outcome: n for outcome, n in self.outcomes.items() if not outcome.startswith("2")}

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def _run(self, offset: int) -> None:
        with httpx.Client(base_url=self.url, timeout=15) as client:
            i = offset
            while not self._stop.is_set():
                try:
                    response = client.get("/recommend", params={"movie": self.queries[i % len(self.queries)]})
                    outcome, version = str(response.status_code), response.headers.get("x-model-version")
                except httpx.HTTPError as exc:
                    outcome, version = type(exc).__name__, None
                with self._lock:
                    self.outcomes[outcome] += 1
                    if not outcome.startswith("2"):
                        self.failed_at.append(time.monotonic())
                    if version:
                        self.versions.append(version)
                i += 1
                if self.pause:
                    time.sleep(self.pause)

