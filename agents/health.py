"""`python -m movie_r_agents.health`: exit 0 when the agent of this host is alive, 1 with the reason when not.

The container healthcheck. Alive means: the agent of this host (not a predecessor whose
status file is still there) has not stopped, its scheduler wrote a heartbeat within
`STALE_AFTER` seconds, and, between ticks, the next tick is not overdue. A tick that trains
for an hour is alive as long as the heartbeat goes on. The standard library only: the check
runs every few seconds and must cost a fraction of a core, so it imports neither pydantic
nor anything of the core but the storage layout (`movie_r.storage.agent_status` defines the record
this reads).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from movie_r.storage.layout import StorageLayout

HEARTBEAT_SECONDS = 10.0  # how often the agent's main thread rewrites its status (agents/scheduler.py)
STALE_AFTER = 3 * HEARTBEAT_SECONDS
OVERDUE_AFTER = 120.0  # seconds past its due time (jitter included) before a tick that did not start counts as stuck


def problem(status: dict, now: datetime, host: str) -> str | None:
    """Why the agent described by `status` is not healthy, or None when it is."""
    if status.get("host") != host:
        return f"the status file is from host {status.get('host')!r}, not this one ({host}): this agent has not started"
    if status.get("state") == "stopped":
        return "the agent has stopped"
    age = (now - datetime.fromisoformat(status["updated_at"])).total_seconds()
    if age > STALE_AFTER:
        return f"no heartbeat for {age:.0f} s (state {status.get('state')})"
    due = status.get("next_tick_at")
    if status.get("state") == "idle" and due:
        late = (now - datetime.fromisoformat(due)).total_seconds()
        if late > OVERDUE_AFTER:
            return f"the next tick is {late:.0f} s overdue"
    return None


def main() -> int:
    home = Path(os.environ.get("MOVIE_R_HOME") or ".")
    path = StorageLayout(home).metrics.agent_status
    try:
        status = json.loads(path.read_bytes())
        reason = problem(status, datetime.now(UTC), socket.gethostname())
    except FileNotFoundError:
        reason = f"no agent status at {path} yet"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = f"unreadable agent status {path}: {exc}"
    if reason:
        print(f"unhealthy: {reason}")
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
