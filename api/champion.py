"""The serving champion and the watcher that hot-swaps it.

Like TensorFlow Serving's availability-preserving policy: a new version is discovered by
polling where `models/champion` points, verified (signature, then SHA-256) and loaded *beside* the old
one, warmed up with real queries, and only then does one reference change. A request
reads that reference once, so it finishes on the model it started with; the old model
is freed when the last such request is done.
"""

from __future__ import annotations

import gc
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from movie_r.answering.inference import Recommender
from movie_r.answering.ranked_lists import load as load_lists
from movie_r.errors import MovieRError
from movie_r.lifecycle import experiments
from movie_r.lifecycle.evaluation import typo
from movie_r.periodic import Periodic
from movie_r.storage.manifest import Manifest
from movie_r.storage.registry import Registry
from movie_r.storage.signing import SignatureError
from movie_r_api.answers import AnswerCache
from movie_r_api.experiment import ServingExperiment

log = logging.getLogger(__name__)

WARMUP_QUERIES = 3


@dataclass(frozen=True)
class LoadedModel:
    """A champion ready to serve, its answer cache, and what /model reports about it."""

    recommender: Recommender
    manifest: Manifest
    answers: AnswerCache
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def version(self) -> str:
        return self.manifest.version


class ChampionWatcher:
    """Holds the current champion and swaps in new ones from a background thread."""

    def __init__(
        self,
        registry: Registry,
        interval: float = 2.0,
        fuzzy_threshold: float = 80.0,
        cache_size: int = 20_000,
        warm_answers: int = 0,
        cache_bytes: int = 128 << 20,
        on_reload: Callable[[str], None] = lambda result: None,
    ) -> None:
        self.registry = registry
        self.on_reload = on_reload
        self.fuzzy_threshold = fuzzy_threshold
        self.cache_size = cache_size
        self.cache_bytes = cache_bytes
        self.warm_answers = warm_answers
        self.current: LoadedModel | None = None
        self.reloads_ok = 0
        self.reloads_failed = 0
        self.last_error: str | None = None
        self._refused: str | None = None  # a version that failed stays refused until the link moves
        self.experiment: ServingExperiment | None = None
        self._candidate_refused: str | None = None
        self._lock = threading.Lock()
        self._watch = Periodic("champion-watcher", interval, self.check)

    def start(self) -> None:
        self.check()
        self._watch.start()

    def stop(self) -> None:
        self._watch.stop(timeout=30)

    def check(self, force: bool = False) -> bool:
        """Load the version `champion` points at if it is new (True when a swap happened), and
        the candidate of an online experiment beside it."""
        swapped = self._check_champion(force)
        self._check_experiment()
        return swapped

    def _check_experiment(self) -> None:
        """Serve the running experiment's candidate, loaded aside like a champion; drop it once it ends."""
        with self._lock:
            try:
                record = experiments.current(self.registry)
            except MovieRError as exc:
                record = None
                log.error("experiment record unreadable reason=%r", str(exc))
            serving = self.experiment
            if record is None:
                if serving is not None:
                    log.info("experiment ended: serving the champion alone experiment=%s", serving.id)
                    self.experiment = None
                return
            if serving is not None and serving.record == record:
                return
            if serving is not None and serving.record.candidate == record.candidate:  # a new experiment, same candidate
                self.experiment = ServingExperiment(record, serving.candidate)
                return
            if record.candidate == self._candidate_refused:
                return
            try:
                loaded = self._load(record.candidate)
            except Exception as exc:  # a candidate that cannot serve never touches the champion's answers
                self._candidate_refused = record.candidate
                log.error("candidate refused version=%s reason=%r", record.candidate, f"{type(exc).__name__}: {exc}")
                return
            self.experiment = ServingExperiment(record, loaded)
            log.info("experiment serving experiment=%s mode=%s candidate=%s", record.id, record.mode.value, record.candidate)

    def _check_champion(self, force: bool) -> bool:
        with self._lock:
            target = self.registry.champion_version()
            serving = self.current.version if self.current else None
            if target is None or (target == serving and not force) or (target == self._refused and not force):
                return False
            try:
                loaded = self._load(target)
            except SignatureError as exc:  # planted or tampered with: counted apart from damaged files
                self._refuse(target, str(exc), result="bad_signature")
                return False
            except MovieRError as exc:
                self._refuse(target, str(exc))
                return False
            except Exception as exc:  # an artifact that passes its checksum but breaks on use
                self._refuse(target, f"{type(exc).__name__}: {exc}")
                return False
            self.current = loaded
            _settle_memory()
            self._refused = None
            self.reloads_ok += 1
            self.on_reload("success")
            log.info("champion swapped from=%s to=%s", serving, target)
            return True

    def _load(self, version: str) -> LoadedModel:
        started = time.perf_counter()
        model_version = self.registry.get(version)
        recommender = Recommender(model_version.load(), version, self.fuzzy_threshold)
        lists = load_lists(model_version, len(recommender))
        warm_up(recommender)
        answers = AnswerCache(recommender, self.cache_size, lists, self.cache_bytes)
        answers.warm(self.warm_answers)
        log.info(
            "champion loaded version=%s seconds=%.2f movies=%d lists=%s",
            version,
            time.perf_counter() - started,
            len(recommender),
            lists is not None,
        )
        return LoadedModel(recommender, model_version.manifest, answers)

    def _refuse(self, version: str, reason: str, result: str = "failure") -> None:
        self._refused = version
        self.reloads_failed += 1
        self.on_reload(result)
        self.last_error = f"version {version} refused: {reason}"
        log.error("champion refused version=%s serving=%s reason=%r", version, self.current and self.current.version, reason)


def warm_up(recommender: Recommender) -> None:
    """Answer one query of each kind so the first users do not pay for lazy initialisation."""
    rng = random.Random(0)
    popular = [recommender.movie(int(row))["title"] for row in recommender.popular_rows()[:WARMUP_QUERIES]]
    for title in popular:
        recommender.recommend(title, k=10)
        recommender.recommend(typo(title, rng), k=10)
    recommender.recommend("a story of friendship and adventure", k=10)
    recommender.recommend(movie_id=int(recommender.model.ids_[0]), k=10)


def _settle_memory() -> None:
    """Collect what the old model left, then freeze the survivors (mostly the new model).

    A model lives for hours; frozen, its objects are no longer rescanned by every full
    collection, which set the p99 latency under load. Unfreezing first lets a previous
    model that is garbage now be collected instead of pinned.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
