"""The training engine a run uses, opened for the length of one fit (`engine_for`).

An engine hands the blend a `BlockRunner`: the neighbour ranking, the one stage that grows
with the square of the catalogue, split into blocks of movies. The local engine ranks them
in this process; the Spark engine ships the same ranking to executors. A Spark session holds
a cluster's cores while it lives, so it lives for one fit, not for the agent's lifetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from movie_r.recommenders.neighbours import BlockRunner, in_process
from movie_r.settings import Settings


@dataclass(frozen=True)
class Engine:
    """What a fit asks of an engine: how it ranks blocks (the stages that move to Spark next
    join it here)."""

    runner: BlockRunner


LOCAL = Engine(in_process)


@contextmanager
def engine_for(settings: Settings) -> Iterator[Engine]:
    """The configured engine, started (a Spark session) and stopped around the block."""
    if settings.engine == "local":
        yield LOCAL
        return
    from movie_r.engines.spark import spark_engine  # pyspark only where the spark engine is asked for

    with spark_engine(settings.spark_master, settings.spark_work, settings.spark_wait_seconds) as engine:
        yield engine


def check_engine(settings: Settings) -> None:
    """Raise `EngineError` now if the configured engine cannot run (pyspark or Java missing, a
    master out of reach): before a long tuning, not at the final fit after it."""
    if settings.engine == "spark":
        from movie_r.engines.spark import check_prerequisites

        check_prerequisites(settings.spark_master)
