"""The agent process: an APScheduler 3.x interval job around `run_tick`.

One job, `coalesce=True` and `max_instances=1` (missed runs collapse into one, never two at
once), with jitter so many agents do not tick in step. The scheduler runs in the
background; the main thread only waits for SIGTERM or SIGINT (any number of them, in any
order, as `make run` and a terminal send them together). On the first one the running
tick is asked to stop at its next checkpoint and given `STOP_GRACE` seconds to get there;
a tick still inside one long computation after that is left unfinished, which is safe
because a version becomes visible only by a final rename and the champion only by a
symlink swap, neither of which it reached. Either way the process is gone within about
two seconds, without a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from movie_r.progress import current_stage
from movie_r.settings import Settings
from movie_r.storage.agent_status import AgentStatus, write_status
from movie_r.storage.ownership import storage_problem
from movie_r.storage.records import Decision, Outcome, Result, TickVerdict
from movie_r.storage.signing import ensure_request_id_secret, load_signer
from movie_r_agents.health import HEARTBEAT_SECONDS
from movie_r_agents.tick import record_abandoned, run_tick

log = logging.getLogger(__name__)

JOB_ID = "retraining-tick"
QUIET_WINDOW_JOB_ID = "experiment-quiet-window"  # one more look when a new experiment's quiet window ends
STOP_GRACE = 1.0  # seconds a running tick gets to reach a checkpoint after a stop signal
TICKING_HEARTBEAT_SECONDS = 2.0
SIGNAL_POLL = 0.05  # seconds between checks of the stop flag in the main thread
STORAGE_RECHECK = 10.0  # seconds between checks of a storage root this process could not write


class Agent:
    """The scheduler, the tick it runs, and the status file it keeps."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop = threading.Event()  # set: ticks stop at their next checkpoint
        self.idle = threading.Event()  # set: no tick is running
        self.idle.set()
        self.status = AgentStatus.new(settings.agent_interval_seconds)
        self._status_lock = threading.Lock()  # the tick's thread and the heartbeat both write it
        self.scheduler = BackgroundScheduler(timezone=UTC, executors={"default": ThreadPoolExecutor(1)})

    def tick(self) -> None:
        """One tick; and at once a second one after it installed a first champion.

        A first champion is the quick TF-IDF one an empty home gets so that it serves within
        a minute; what the data can do better (the tuned hybrid, with ratings) is the next
        tick's work, which should not wait a whole interval for it. Likewise a tick that
        started an experiment has the agent look again when its quiet window ends, so that a
        deployment nobody clicks in promotes on the offline verdict then, not an interval later.
        """
        self.idle.clear()
        try:
            record = self._tick_once()
            installed = record.verdict == TickVerdict.FIRST_CHAMPION and record.outcome is not None and record.outcome.result == Result.PROMOTED
            if installed and not self.stop.is_set():
                log.info("first champion installed; ticking again now instead of in %ss", self.settings.agent_interval_seconds)
                record = self._tick_once()
            if record.outcome is not None and record.outcome.result == Result.EXPERIMENT:
                self._look_again_after_the_quiet_window()
        finally:
            self.idle.set()

    def _look_again_after_the_quiet_window(self) -> None:
        when = datetime.now(UTC) + timedelta(minutes=self.settings.online_quiet_minutes, seconds=1)
        following = self._next_tick()
        if following is not None and following <= when:
            return
        self.scheduler.add_job(self.tick, "date", run_date=when, id=QUIET_WINDOW_JOB_ID, replace_existing=True)
        log.info("experiment started; looking at it again when its quiet window ends at=%s", when.isoformat())

    def _tick_once(self) -> Decision:
        self._update(state="ticking")
        try:
            record = Decision.model_validate(run_tick(self.settings, stop=self.stop))
        except Exception as exc:  # run_tick records its own failures; this is the last resort
            log.exception("tick failed")
            error = f"{type(exc).__name__}: {exc}"
            record = Decision(verdict=TickVerdict.FAILED, outcome=Outcome(result=Result.FAILED, error=error))
        failed = record.failed
        self._update(
            state="idle",
            ticks=self.status.ticks + 1,
            failed_ticks=self.status.failed_ticks + failed,
            consecutive_failures=self.status.consecutive_failures + 1 if failed else 0,
            last_tick_at=datetime.now(UTC),
            last_verdict=record.verdict,
            last_error=record.error if failed else None,
            next_tick_at=self._next_tick(),
            stage=None,
            stage_done=None,
            stage_total=None,
        )
        return record

    def run(self) -> None:
        """Tick now, then every interval, until a signal arrives; then stop within ~2 s."""
        signals: list[int] = []
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda signum, frame: signals.append(signum))
        if not self._storage_ready(signals):
            log.info("agent stopped before it started signal=%s", signal.Signals(signals[0]).name)
            return
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.settings.agent_interval_seconds, jitter=self.settings.agent_jitter_seconds or None),
            id=JOB_ID,
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        write_status(self.settings.metrics_dir, self.status)
        self.scheduler.start()
        log.info(
            "agent started home=%s interval=%ss jitter=%ss",
            self.settings.home, self.settings.agent_interval_seconds, self.settings.agent_jitter_seconds,
        )  # fmt: skip
        heartbeat = time.monotonic() + HEARTBEAT_SECONDS
        while not signals:
            time.sleep(SIGNAL_POLL)
            if time.monotonic() >= heartbeat and self.scheduler.running:  # alive, even inside an hour-long tick
                # a deleted request-id secret is made again, and every replica adopts it (request_ids.refresh)
                with contextlib.suppress(OSError):  # an unwritable root is said by the tick that needs it
                    ensure_request_id_secret(self.settings.keys_path)
                stage = current_stage() if not self.idle.is_set() else None
                self._update(
                    stage=stage and stage.name, stage_done=stage and stage.done, stage_total=stage and stage.total
                )
                # while a tick runs, the console shows its progress: a fresher status then
                heartbeat = time.monotonic() + (HEARTBEAT_SECONDS if self.idle.is_set() else TICKING_HEARTBEAT_SECONDS)
        log.info("agent stopping signal=%s", signal.Signals(signals[0]).name)
        self.stop.set()
        self.scheduler.shutdown(wait=False)
        finished = self.idle.wait(STOP_GRACE)
        self._update(state="stopped", next_tick_at=None)
        if not finished:
            record_abandoned(self.settings, f"stopped by {signal.Signals(signals[0]).name} inside a long computation")
            log.warning("agent stopped; the running tick was left unfinished and published nothing")
            _exit_now()
        log.info("agent stopped")

    def _storage_ready(self, signals: list[int]) -> bool:
        """Wait until this process can write the storage root, saying once why it cannot; False on a signal.

        Then make the keys, so the API replicas find the request-id secret and the trusted
        key before the first training (they may mount `keys/` read-only).
        """
        home, storage = self.settings.home, self.settings.storage
        written = (storage.models.root, storage.metrics.root, storage.reports.root, storage.keys)
        problem = storage_problem(home, written)
        if problem:
            log.error("%s; waiting for that (checked every %.0f s)", problem, STORAGE_RECHECK)
        while problem:
            deadline = time.monotonic() + STORAGE_RECHECK
            while time.monotonic() < deadline:
                if signals:
                    return False
                time.sleep(SIGNAL_POLL)
            problem = storage_problem(home, written)
            if not problem:
                log.info("storage root %s is writable now", home)
        load_signer(storage.keys, create=True)
        return True

    def _next_tick(self) -> datetime | None:
        job = self.scheduler.get_job(JOB_ID)
        return job.next_run_time if job else None

    def _update(self, **changes: Any) -> None:
        with self._status_lock:
            for name, value in changes.items():
                setattr(self.status, name, value)
            write_status(self.settings.metrics_dir, self.status)


def run_agent(settings: Settings) -> None:
    Agent(settings).run()


def _exit_now() -> None:
    """Leave without joining the tick's thread, which would finish its computation first."""
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)
