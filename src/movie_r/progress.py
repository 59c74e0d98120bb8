"""Progress of long steps, and the points where a stop request can end them.

On a terminal a step is one updating line (tqdm). Everywhere else (logs, containers) a
step logs `stage=… done=i/n eta=…` only once it has run for `LOG_EVERY` seconds, and then
at most that often: a long run is never silent, a short one adds no lines.

Every item of a step is also a checkpoint: inside `cancellable(stop)`, once `stop` is set
the step raises `Cancelled` at its next item, so a trainer asked to stop leaves at the next
item rather than at the end of the whole run.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from tqdm import tqdm

from movie_r.errors import Cancelled

T = TypeVar("T")
log = logging.getLogger("movie_r.progress")

LOG_EVERY = 10.0  # seconds between progress lines in logs

_stop: ContextVar[threading.Event | None] = ContextVar("movie_r_stop", default=None)


@dataclass(frozen=True)
class Stage:
    """The step running now and how far along it is (the agent's status file shows it)."""

    name: str
    done: int
    total: int


_current: Stage | None = None  # one trainer per process: the last step anyone reported


def current_stage() -> Stage | None:
    return _current


@contextmanager
def cancellable(stop: threading.Event) -> Iterator[None]:
    """Make every checkpoint run in this context raise `Cancelled` once `stop` is set."""
    token = _stop.set(stop)
    try:
        yield
    finally:
        _stop.reset(token)


def checkpoint(stage: str) -> None:
    """Raise `Cancelled` if a stop was requested; a no-op outside `cancellable`."""
    stop = _stop.get()
    if stop is not None and stop.is_set():
        raise Cancelled(f"stop requested during {stage}")


def progress(items: Iterable[T], total: int, desc: str) -> Iterator[T]:
    """Yield `items`, reporting how far along `desc` is, with a checkpoint before each."""
    global _current
    try:
        for done, item in enumerate(_reported(items, total, desc)):
            _current = Stage(desc, done, total)
            yield item
    finally:
        _current = None


def _reported(items: Iterable[T], total: int, desc: str) -> Iterator[T]:
    if sys.stderr.isatty():
        with tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True) as bar:
            for item in items:
                checkpoint(desc)
                yield item
                bar.update()
        return
    started = last = time.monotonic()
    for done, item in enumerate(items, start=1):
        checkpoint(desc)
        yield item
        now = time.monotonic()
        if now - last >= LOG_EVERY:
            eta = (now - started) / done * (total - done)
            log.info("stage=%s done=%d/%d elapsed=%.0fs eta=%.0fs", desc, done, total, now - started, eta)
            last = now
