"""The agent's decision log, `reports/decisions.jsonl`: one settled `Decision` per tick,
appended whole, rotated by size and kept for a year."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from movie_r.settings import Settings
from movie_r.storage import journal
from movie_r.storage.records import Decision, read_file

log = logging.getLogger("movie_r_agents.tick")

DECISIONS_ROTATE_BYTES = 10 << 20  # then decisions.<ns>.jsonl, deleted after DECISIONS_RETENTION_DAYS
DECISIONS_RETENTION_DAYS = 365


def decisions_path(settings: Settings) -> Path:
    return settings.storage.reports.decisions


def read_decisions(settings: Settings) -> list[Decision]:
    """Every decision recorded, oldest first; a line that is not one (torn, another tool's) is skipped."""
    return read_file(decisions_path(settings), Decision)


def append_decision(settings: Settings, decision: Decision) -> dict[str, Any]:
    """Append the settled decision to the log; its JSON form is what `run_tick` returns."""
    assert decision.verdict is not None, "a tick is recorded only once it decided"
    record = decision.to_json()
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    journal.rotate_if_large(decisions_path(settings), DECISIONS_ROTATE_BYTES, DECISIONS_RETENTION_DAYS)
    journal.append_record(decisions_path(settings), record)
    result = decision.outcome.result.value if decision.outcome is not None else None
    log.info("decision verdict=%r reasons=%r outcome=%r", decision.verdict.value, decision.reasons, result)
    return record
