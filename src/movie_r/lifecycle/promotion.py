"""Changing the champion on purpose: promotion, rollback, and pruning old versions.

Each change is one atomic replacement of the relative `models/champion` symlink (the API
replicas pick it up on their own) and one line in `models/registry.jsonl`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import Timeout

from movie_r.answering import ranked_lists
from movie_r.errors import ArtifactError, MovieRError
from movie_r.storage.layout import ReportsLayout
from movie_r.storage.lineage import former_champions, previous_champion
from movie_r.storage.records import Event, RegistryEvent
from movie_r.storage.registry import ModelVersion, Registry

ANY = object()  # `promote` without a compare-and-swap

log = logging.getLogger(__name__)


class ChampionChanged(MovieRError):
    """The champion moved while a challenger was judged against it: the verdict no longer applies."""


@contextmanager
def trainer_lock(registry: Registry, wait: float, doing: str) -> Iterator[None]:
    """Hold the lock that trainers hold, so a hand change never races a tick's promotion."""
    lock = registry.trainer_lock()
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise MovieRError(
            f"cannot {doing} now: a trainer (an agent tick or a retrain) holds {lock.lock_file}; "
            f"run it again when it is done, or wait for it with --wait SECONDS"
        ) from None
    try:
        yield
    finally:
        lock.release()


def servable(version: ModelVersion) -> None:
    """Everything an API worker will check and load, checked here first: signature, every
    file's checksum, the pipeline, and the precomputed lists against its catalogue.
    A version that fails here would serve nowhere, so it never becomes champion."""
    version.verify()
    pipeline = version.load()
    ranked_lists.load(version, len(pipeline[-1].ids_))


def promote(
    registry: Registry, version: str, reason: str, expected_champion: str | None | object = ANY, **details: Any
) -> RegistryEvent:
    """Make `version` champion once it is servable; the old champion is recorded as previous.

    With `expected_champion`, a compare-and-swap: if the champion is no longer the one the
    challenger was judged against (a rollback or a hand promotion came in between), nothing
    changes and `ChampionChanged` says so.
    """
    servable(registry.get(version))
    previous = registry.champion_version()
    if expected_champion is not ANY and previous != expected_champion:
        raise ChampionChanged(
            f"the champion changed from {expected_champion} to {previous} while {version} was judged against it"
        )
    registry.set_champion(version)
    log.info("promoted version=%s previous=%s reason=%r", version, previous, reason)
    return registry.record(Event.PROMOTED, version, previous=previous, reason=reason, **details)


def rollback(registry: Registry, reason: str = "manual rollback") -> RegistryEvent:
    """Return to the previous champion (verified first), and record it."""
    current = registry.champion_version()
    target = previous_champion(registry)
    if target is None:
        raise ArtifactError(f"no previous champion recorded for {current}; nothing to roll back to")
    servable(registry.get(target))
    registry.set_champion(target)
    log.info("rolled back from=%s to=%s", current, target)
    return registry.record(Event.RESTORED, target, previous=current, reason=reason)


def restore_servable_champion(registry: Registry) -> RegistryEvent | None:
    """When the champion cannot serve, make the last servable earlier champion champion again.

    Returns the `restored` event, or None when the champion is fine (or there is none).
    Candidates are the versions that were champion once, most recently installed first:
    never one that lost to a champion. Raises `ArtifactError` when none of them serves.
    """
    current = registry.champion_version()
    if current is None:
        return None
    try:
        servable(registry.get(current))
        return None
    except ArtifactError as exc:
        broken = str(exc)
    failures = []
    for candidate in former_champions(registry):
        if candidate == current:
            continue
        try:
            servable(registry.get(candidate))
        except ArtifactError as exc:
            failures.append(str(exc))
            continue
        registry.set_champion(candidate)
        reason = f"champion {current} cannot serve ({broken}); restored the last earlier champion that does"
        log.error("champion restored version=%s broken=%s reason=%r", candidate, current, broken)
        return registry.record(Event.RESTORED, candidate, previous=current, reason=reason)
    raise ArtifactError(f"champion {current} cannot serve ({broken}) and no earlier champion does either: {failures}")


def apply_retention(registry: Registry, keep: int, reports_dir: Path | None = None) -> list[str]:
    """Remove all but the newest `keep` versions, and their reports; never the champion, the
    previous champion or an experiment's candidate."""
    versions = [v.version for v in registry.versions()]
    protected = {registry.champion_version(), previous_champion(registry), registry.candidate_version()}
    removable = [v for v in versions[: max(0, len(versions) - keep)] if v not in protected]
    for version in removable:
        registry.remove(version)
        registry.record(Event.REMOVED, version, reason=f"retention: keep the newest {keep} versions")
        for suffix in (".json", ".html"):
            if reports_dir is not None:
                ReportsLayout(reports_dir).report(version, suffix).unlink(missing_ok=True)
    return removable
