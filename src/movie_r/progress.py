"""Progress for long steps: a bar on a terminal, plain log lines everywhere else."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
log = logging.getLogger("movie_r.progress")


def progress(items: Iterable[T], total: int, desc: str) -> Iterator[T]:
    """Yield `items`, reporting how far along `desc` is (every 10 % when not on a terminal)."""
    if sys.stderr.isatty():
        yield from tqdm(items, total=total, desc=desc, leave=False)
        return
    step = max(1, total // 10)
    for done, item in enumerate(items, start=1):
        yield item
        if done % step == 0 or done == total:
            log.info("%s %d/%d", desc, done, total)
