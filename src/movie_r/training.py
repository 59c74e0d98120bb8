"""Train, evaluate and register one model version; the first one in a home becomes champion.

All input is loaded and validated before anything is written, and the version directory
is written atomically, so a bad file or a crash never leaves a partial version behind and
never touches the serving champion.
"""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from movie_r.data import Catalog, Interactions, load_catalog, load_interactions
from movie_r.evaluation import EvaluationReport, Split, evaluate, split_interactions
from movie_r.inference import Recommender
from movie_r.models import content
from movie_r.registry import ModelVersion, Registry, new_version_id, utc_now
from movie_r.settings import Settings

log = logging.getLogger(__name__)

LIBRARIES = ("movie-r", "scikit-learn", "numpy", "scipy", "pandas", "joblib", "rapidfuzz")


@dataclass(frozen=True)
class TrainingData:
    """Validated inputs of one training run and the split every model is scored on."""

    catalog: Catalog
    interactions: Interactions | None
    split: Split | None

    def fingerprints(self) -> dict[str, Any]:
        found = {"catalog": _fingerprint(self.catalog)}
        if self.interactions is not None:
            found["interactions"] = _fingerprint(self.interactions)
        return found


@dataclass(frozen=True)
class TrainResult:
    version: ModelVersion
    report: EvaluationReport
    champion: bool


def load_training_data(
    catalog: Path, interactions: Path | None, skip_invalid: bool = False, skip_unknown: bool = False
) -> TrainingData:
    """Load and validate everything a training run needs, before anything is written."""
    loaded_catalog = load_catalog(catalog, skip_invalid=skip_invalid)
    loaded_interactions = (
        load_interactions(interactions, loaded_catalog, skip_unknown=skip_unknown) if interactions else None
    )
    split = split_interactions(loaded_interactions.ratings) if loaded_interactions is not None else None
    return TrainingData(loaded_catalog, loaded_interactions, split)


def train(
    settings: Settings,
    data: TrainingData,
    params: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> TrainResult:
    """Fit a content pipeline on `data`, evaluate it, save it; make it champion if none exists."""
    registry = registry or Registry(settings.models_dir)
    params = {**content.DEFAULT_PARAMS, "recommender__n_neighbors": settings.neighbours, **(params or {})}
    started = time.perf_counter()
    pipeline = content.fit_pipeline(content.build_pipeline(params, settings.block_memory_mb), data.catalog.movies)
    train_seconds = time.perf_counter() - started
    version = new_version_id()
    report = evaluate(Recommender(pipeline, version, settings.fuzzy_threshold), data.split)
    manifest = {
        "version": version,
        "created_at": utc_now().isoformat(),
        "kind": content.KIND,
        "params": _json_safe(params),
        "data": data.fingerprints(),
        "libraries": {"python": platform.python_version(), **{name: _version_of(name) for name in LIBRARIES}},
        "train_seconds": round(train_seconds, 3),
        "evaluation": report.summary(),
        "warnings": data.catalog.warnings + (data.interactions.warnings if data.interactions else []),
    }
    saved = registry.save(pipeline, manifest)
    registry.record("trained", version, kind=content.KIND, score=report.score, score_name=report.score_name)
    log.info("trained version=%s score=%s=%.4f seconds=%.1f", version, report.score_name, report.score, train_seconds)
    became_champion = registry.champion_version() is None
    if became_champion:
        registry.set_champion(version)
        registry.record("promoted", version, reason="first model in an empty home", score=report.score)
    return TrainResult(saved, report, became_champion)


def _fingerprint(source: Catalog | Interactions) -> dict[str, Any]:
    return {"path": str(source.source), "sha256": source.fingerprint, "rows": len(source)}


def _version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _json_safe(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as JSON can hold them (dtypes by name, tuples as lists)."""

    def convert(value: Any) -> Any:
        if isinstance(value, type):
            return np.dtype(value).name if issubclass(value, np.generic) else value.__name__
        if isinstance(value, tuple):
            return list(value)
        return value

    return {name: convert(value) for name, value in params.items()}
