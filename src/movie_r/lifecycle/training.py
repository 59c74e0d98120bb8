"""Train, evaluate and register one model version; the first one in a home becomes champion.

All input is loaded and validated before anything is written (`fitting`), and the version
directory is written atomically, so a bad file or a crash never leaves a partial version
behind and never touches the serving champion.
"""

from __future__ import annotations

import logging
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from movie_r.answering.inference import Recommender
from movie_r.answering.ranked_lists import BODY, LISTS, build
from movie_r.lifecycle.evaluation import (
    EvaluationReport,
)
from movie_r.lifecycle.fitting import Candidate, TrainingData, fit_candidate
from movie_r.lifecycle.tuning import tune
from movie_r.recommenders.kinds import AUTO_KINDS
from movie_r.recommenders.pipeline import json_params
from movie_r.settings import Settings
from movie_r.storage.files import utc_now
from movie_r.storage.manifest import Manifest
from movie_r.storage.records import Event
from movie_r.storage.registry import ModelVersion, Registry, new_version_id

log = logging.getLogger(__name__)

LIBRARIES = ("movie-r", "scikit-learn", "numpy", "scipy", "pandas", "joblib", "rapidfuzz")


@dataclass(frozen=True)
class TrainResult:
    version: ModelVersion
    report: EvaluationReport
    champion: bool


def save_candidate(registry: Registry, candidate: Candidate, data: TrainingData, **extra: Any) -> ModelVersion:
    """Write `candidate` as a new version, with its manifest and every movie's default answer,
    and record it as trained."""
    version = new_version_id()
    started = time.perf_counter()
    lists = build(Recommender(candidate.pipeline, version))
    lists_seconds = time.perf_counter() - started
    manifest = Manifest(
        version=version,
        created_at=utc_now(),
        kind=candidate.kind,
        params=json_params(candidate.params),
        selection=candidate.selection,
        data=data.fingerprints(),
        libraries={"python": platform.python_version(), **{name: _version_of(name) for name in LIBRARIES}},
        train_seconds=round(candidate.train_seconds, 3),
        lists_seconds=round(lists_seconds, 3),
        evaluation=candidate.report.record(),
        warnings=data.catalog.warnings + (data.interactions.warnings if data.interactions else []),
        **extra,
    )
    saved = registry.save(candidate.pipeline, manifest, {LISTS: lists.save, BODY: lists.save_body})
    for gap in data.catalog.gaps:  # once per version trained, not at every load of the catalogue
        log.warning("version=%s catalog=%s %s", version, data.catalog.source, gap)
    report = candidate.report
    registry.record(Event.TRAINED, version, kind=candidate.kind, score=report.score, score_name=report.score_name)
    log.info("trained version=%s %s=%.4f seconds=%.1f", version, report.score_name, report.score, candidate.train_seconds)
    return saved


def train(
    settings: Settings,
    data: TrainingData,
    kind: str = "auto",
    params: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> TrainResult:
    """Fit, evaluate and save one version; it becomes champion if the home has none.

    `kind="auto"` tunes every kind on validation data when interactions exist, else TF-IDF.
    """
    registry = registry or Registry.of(settings)
    if kind == "auto" and params is None:
        candidate = tune(settings, data, AUTO_KINDS)
    else:
        candidate = fit_candidate(settings, data, "tfidf" if kind == "auto" else kind, params)
    saved = save_candidate(registry, candidate, data)
    became_champion = registry.champion_version() is None
    if became_champion:
        registry.set_champion(saved.version)
        registry.record(Event.PROMOTED, saved.version, reason="first model in an empty home", score=candidate.report.score)
    return TrainResult(saved, candidate.report, became_champion)


def _version_of(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
