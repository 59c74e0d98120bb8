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

from sklearn.pipeline import Pipeline

from movie_r.data import Catalog, Interactions, load_catalog, load_interactions
from movie_r.evaluation import EvaluationReport, EvaluationSet, evaluate, proxy_sample, split_interactions
from movie_r.inference import Recommender
from movie_r.models import content
from movie_r.registry import ModelVersion, Registry, new_version_id, utc_now
from movie_r.settings import Settings

log = logging.getLogger(__name__)

LIBRARIES = ("movie-r", "scikit-learn", "numpy", "scipy", "pandas", "joblib", "rapidfuzz")


@dataclass(frozen=True)
class TrainingData:
    """Validated inputs of one training run and the queries every model is scored on."""

    catalog: Catalog
    interactions: Interactions | None
    queries: EvaluationSet

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
    if loaded_interactions is not None:
        queries: EvaluationSet = split_interactions(loaded_interactions.ratings)
    else:
        queries = proxy_sample(loaded_catalog.movies)
    return TrainingData(loaded_catalog, loaded_interactions, queries)


@dataclass(frozen=True)
class Candidate:
    """A fitted, evaluated pipeline that is not saved yet."""

    params: dict[str, Any]
    pipeline: Pipeline
    report: EvaluationReport
    train_seconds: float


def fit_candidate(settings: Settings, data: TrainingData, params: dict[str, Any] | None = None) -> Candidate:
    """Fit a content pipeline with `params` (over the defaults) and score it on `data.queries`."""
    params = {**content.DEFAULT_PARAMS, "recommender__n_neighbors": settings.neighbours, **(params or {})}
    started = time.perf_counter()
    pipeline = content.fit_pipeline(content.build_pipeline(params, settings.block_memory_mb), data.catalog.movies)
    train_seconds = time.perf_counter() - started
    report = evaluate(Recommender(pipeline, "candidate", settings.fuzzy_threshold), data.queries)
    return Candidate(params, pipeline, report, train_seconds)


def save_candidate(registry: Registry, candidate: Candidate, data: TrainingData, **extra: Any) -> ModelVersion:
    """Write `candidate` as a new version with its manifest, and record it as trained."""
    version = new_version_id()
    manifest = {
        "version": version,
        "created_at": utc_now().isoformat(),
        "kind": content.KIND,
        "params": content.json_params(candidate.params),
        "data": data.fingerprints(),
        "libraries": {"python": platform.python_version(), **{name: _version_of(name) for name in LIBRARIES}},
        "train_seconds": round(candidate.train_seconds, 3),
        "evaluation": candidate.report.summary(),
        "warnings": data.catalog.warnings + (data.interactions.warnings if data.interactions else []),
        **extra,
    }
    saved = registry.save(candidate.pipeline, manifest)
    report = candidate.report
    registry.record("trained", version, kind=content.KIND, score=report.score, score_name=report.score_name)
    log.info("trained version=%s %s=%.4f seconds=%.1f", version, report.score_name, report.score, candidate.train_seconds)
    return saved


def train(
    settings: Settings,
    data: TrainingData,
    params: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> TrainResult:
    """Fit, evaluate and save one version; it becomes champion if the home has none."""
    registry = registry or Registry(settings.models_dir)
    candidate = fit_candidate(settings, data, params)
    saved = save_candidate(registry, candidate, data)
    became_champion = registry.champion_version() is None
    if became_champion:
        registry.set_champion(saved.version)
        registry.record("promoted", saved.version, reason="first model in an empty home", score=candidate.report.score)
    return TrainResult(saved, candidate.report, became_champion)


def _fingerprint(source: Catalog | Interactions) -> dict[str, Any]:
    return {"path": str(source.source), "sha256": source.fingerprint, "rows": len(source)}


def _version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
