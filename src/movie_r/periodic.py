"""One way to run a function every few seconds on a background thread, for every service.

The API's champion watcher and its event flusher both need the same thing: a daemon
thread that calls one function at an interval, survives anything that function raises
(logged; the next call comes on time), and stops promptly when asked, with a bounded wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls `action` every `interval` seconds on a daemon thread named `name`, until `stop()`."""

    def __init__(self, name: str, interval: float, action: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self.action = action
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop and wait up to `timeout` seconds for a running call to return."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.action()
            except Exception:  # the thread must outlive any surprise; the next call comes on time
                log.exception("periodic %s failed", self.name)
