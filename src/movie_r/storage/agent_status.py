"""`metrics/agent.json`: what the retraining agent process is doing, for whoever watches it.

The agent rewrites it (atomically) when it starts, before and after every tick and when it
stops; the API exposes it on `/metrics`, and operators read it to tell a live agent from a
dead one. One typed record, one writer (the agent), tolerant readers.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from movie_r.storage.files import utc_now, write_text_atomic
from movie_r.storage.layout import MetricsLayout

log = logging.getLogger(__name__)

AgentState = Literal["idle", "ticking", "stopped"]


class AgentStatus(BaseModel):
    """The agent process's own account of itself."""

    host: str
    pid: int
    started_at: datetime
    updated_at: datetime
    state: AgentState = "idle"
    interval_seconds: float
    ticks: int = 0
    failed_ticks: int = 0
    consecutive_failures: int = 0
    last_tick_at: datetime | None = None
    last_verdict: str | None = None
    last_error: str | None = None
    next_tick_at: datetime | None = None
    stage: str | None = None  # while ticking: the step running (`movie_r.progress`) and how far along
    stage_done: int | None = None
    stage_total: int | None = None

    @classmethod
    def new(cls, interval_seconds: float) -> AgentStatus:
        now = utc_now()
        return cls(host=socket.gethostname(), pid=os.getpid(), started_at=now, updated_at=now, interval_seconds=interval_seconds)


def status_path(metrics_dir: Path) -> Path:
    return MetricsLayout(metrics_dir).agent_status


def write_status(metrics_dir: Path, status: AgentStatus) -> None:
    """Replace the status file; a failure to write is logged, never fatal to the agent."""
    status.updated_at = utc_now()
    try:
        write_text_atomic(status_path(metrics_dir), status.model_dump_json(indent=2))
    except OSError as exc:
        log.warning("agent status not written path=%s reason=%r", status_path(metrics_dir), exc)


def read_status(metrics_dir: Path) -> AgentStatus | None:
    """The last status an agent wrote, or None when there is none or it is unreadable."""
    return read_status_or_problem(metrics_dir)[0]


def read_status_or_problem(metrics_dir: Path) -> tuple[AgentStatus | None, str | None]:
    """The last status an agent wrote, and why it could not be read when there is a file but no status."""
    path = status_path(metrics_dir)
    try:
        return AgentStatus.model_validate_json(path.read_bytes()), None
    except FileNotFoundError:
        return None, None
    except ValidationError as exc:
        return None, f"{path.name} is unreadable: not an agent status ({exc.error_count()} problems)"
    except (OSError, ValueError) as exc:
        return None, f"{path.name} is unreadable: {exc}"
