"""The agent's container healthcheck: what it calls alive, read from the status the agent really writes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from movie_r.storage.agent_status import AgentStatus, write_status
from movie_r_agents.health import OVERDUE_AFTER, STALE_AFTER, problem

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HOST = "agent-host"


def status(**changes) -> dict:
    record = AgentStatus(host=HOST, pid=1, started_at=NOW, updated_at=NOW, interval_seconds=600, **changes)
    return json.loads(record.model_dump_json())


def test_a_fresh_heartbeat_is_healthy_even_inside_a_long_tick() -> None:
    assert problem(status(), NOW, HOST) is None
    long_tick = status(state="ticking", next_tick_at=NOW - timedelta(hours=1))
    assert problem(long_tick, NOW + timedelta(seconds=STALE_AFTER - 1), HOST) is None


def test_stale_stopped_overdue_or_foreign_statuses_are_unhealthy() -> None:
    assert "no heartbeat" in problem(status(), NOW + timedelta(seconds=STALE_AFTER + 1), HOST)
    assert "stopped" in problem(status(state="stopped"), NOW, HOST)
    overdue = status(next_tick_at=NOW - timedelta(seconds=OVERDUE_AFTER + 1))
    assert "overdue" in problem(overdue, NOW, HOST)
    assert "not this one" in problem(status(), NOW, "another-host")


def run_check(home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MOVIE_R_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "movie_r_agents.health"], capture_output=True, text=True, env=env, timeout=30)


def test_the_command_reads_what_the_agent_writes(tmp_path: Path) -> None:
    missing = run_check(tmp_path)
    assert missing.returncode == 1 and "no agent status" in missing.stdout
    record = AgentStatus.new(600)  # this host, written by the agent's own writer
    write_status(tmp_path / "metrics", record)
    assert record.host == socket.gethostname()
    done = run_check(tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "healthy")
