"""Whether a model version was trained on the data the settings name now.

A champion trained on another catalogue answers with movies the configured one does not
have; the operator should see that wherever the champion is shown (`movie-r status`,
`GET /model`), and the agent retrains on it (the `catalog_mismatch` trigger).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from movie_r.storage.files import file_fingerprint
from movie_r.storage.manifest import TrainedOn


@dataclass(frozen=True)
class DataMatch:
    catalog: bool
    interactions: bool
    detail: str

    @property
    def matches(self) -> bool:
        return self.catalog and self.interactions


def data_match(trained_on: TrainedOn, catalog: Path, interactions: Path | None) -> DataMatch:
    """Compare a manifest's `data` fingerprints with the configured files."""
    catalog_now = cached_fingerprint(catalog)
    interactions_now = cached_fingerprint(interactions) if interactions is not None else None
    then_catalog, then_interactions = trained_on.catalog, trained_on.interactions
    same_catalog = catalog_now is not None and then_catalog is not None and catalog_now == then_catalog.sha256
    same_interactions = interactions_now == (then_interactions.sha256 if then_interactions else None)
    problems = []
    if not same_catalog:
        then = (then_catalog.path if then_catalog else None) or "an unrecorded catalogue"
        problems.append(f"trained on catalogue {then}, configured {catalog}" + ("" if catalog_now else " (unreadable)"))
    if not same_interactions:
        then = (then_interactions.path if then_interactions else None) or "no interactions"
        problems.append(f"trained on {then}, configured {interactions or 'no interactions'}")
    detail = "; ".join(problems) if problems else "trained on the configured data"
    return DataMatch(same_catalog, same_interactions, detail)


def cached_fingerprint(path: Path) -> str | None:
    """The file's SHA-256 (None when unreadable), recomputed only when its size or modification time changed."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _cached_sha256(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str | None:
    try:
        return file_fingerprint(Path(path))
    except OSError:
        return None
