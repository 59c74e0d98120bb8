"""What `POST /feedback` keeps and how it is bounded: the log, one record per request and
action, a rate per client. The agent reads the log to train and to judge (telemetry)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import OrderedDict
from pathlib import Path

from movie_r.storage import journal
from movie_r.storage.records import FeedbackEvent


class FeedbackLog:
    """Appends feedback to `metrics/feedback/<host>-<pid>.jsonl`, fsync'd before answering;
    rotated by size, and files older than the retention period are deleted."""

    def __init__(self, directory: Path, rotate_bytes: int = 10 << 20, retention_days: float = 90.0) -> None:
        self.directory = Path(directory)
        self.rotate_bytes = rotate_bytes
        self.retention_days = retention_days
        self.path = self.directory / f"{socket.gethostname()}-{os.getpid()}.jsonl"

    def append(self, event: FeedbackEvent) -> None:
        """Write one line completely and durably; raises OSError when the disk refuses (the caller answers 503)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        journal.rotate_if_large(self.path, self.rotate_bytes, self.retention_days)
        journal.append(self.path, journal.encode(event), sync=True)

    def remove_expired(self) -> None:
        journal.remove_expired(self.directory, self.retention_days, keep=self.path)


class Once:
    """Remembers the last `size` keys: `first(key)` is True only the first time it is seen."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, key: tuple[str, str]) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = None
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return True


class RateLimit:
    """A token bucket per client: `per_minute` requests a minute, in bursts of up to as many.

    At most `max_clients` buckets are kept (least recently used first out), so a flood from
    many addresses costs bounded memory; a client pushed out simply starts with a full bucket.
    """

    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.capacity = float(per_minute)
        self.refill = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """0 when `client` may go ahead now (and it is counted), else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.refill)
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return 0.0 if allowed else (1.0 - tokens) / self.refill
