"""The agent process: an APScheduler 3.x interval job around `run_tick`.

One job, `coalesce=True` and `max_instances=1` (missed runs collapse into one, never two at
once), with jitter so many agents do not tick in step. SIGTERM/SIGINT ask the running tick
to stop at its next checkpoint (nothing half-done is promoted or left visible) and shut
the scheduler down after it.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timezone
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from agents.tick import run_tick
from movie_r.settings import Settings

log = logging.getLogger("agents.scheduler")


def run_agent(settings: Settings) -> None:
    """Tick now, then every `agent_interval_seconds` until a signal arrives."""
    stop = threading.Event()
    scheduler = BlockingScheduler(timezone=timezone.utc)

    def tick() -> None:
        try:
            run_tick(settings, stop=stop)
        except Exception:  # the scheduler must survive anything a tick throws
            log.exception("tick failed")

    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=settings.agent_interval_seconds, jitter=settings.agent_jitter_seconds or None),
        id="retraining-tick",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(timezone.utc),
    )

    def shut_down(signum: int, frame: Any) -> None:
        log.info("agent stopping signal=%s", signal.Signals(signum).name)
        stop.set()
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    log.info(
        "agent started home=%s interval=%ss jitter=%ss", settings.home, settings.agent_interval_seconds, settings.agent_jitter_seconds
    )
    scheduler.start()
    log.info("agent stopped")
