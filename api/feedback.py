"""The feedback log the agent trains from: durable appends, one file per process."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import orjson


class FeedbackLog:
    """Appends feedback events to `metrics/feedback/<host>-<pid>.jsonl`, fsync'd before answering."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"{socket.gethostname()}-{os.getpid()}.jsonl"

    def append(self, event: dict[str, Any]) -> None:
        """Write one line durably; raises OSError when the disk refuses (the caller answers 503)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, orjson.dumps(event) + b"\n")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
