"""The inputs of one training run, and fitting one candidate: a pipeline of one kind and
parameters, fitted on the training ratings and scored on the run's queries.

All input is loaded and validated here, before anything is written anywhere.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from movie_r.answering.inference import Recommender
from movie_r.data.loading import MIN_MOVIES, Catalog, Interactions, load_catalog, load_interactions, with_rating_popularity
from movie_r.engines.engine import LOCAL, engine_for
from movie_r.errors import DataError
from movie_r.lifecycle.evaluation import (
    EvaluationReport,
    EvaluationSet,
    Split,
    evaluate,
    proxy_sample,
    split_interactions,
)
from movie_r.lifecycle.telemetry import feedback_positives
from movie_r.recommenders.kinds import kind_params
from movie_r.recommenders.pipeline import FittedText, build_pipeline, fit_pipeline
from movie_r.recommenders.shared_signals import SharedSignals
from movie_r.settings import Settings
from movie_r.storage.manifest import FileFingerprint, Selection, TrainedOn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingData:
    """Validated inputs of one training run and the queries every model is scored on."""

    catalog: Catalog
    interactions: Interactions | None
    queries: EvaluationSet
    feedback: pd.DataFrame | None = None  # positive API feedback as ratings (training only)

    @property
    def train_ratings(self) -> pd.DataFrame | None:
        """What models may learn from: the split's training part (never its test part) and feedback."""
        if not isinstance(self.queries, Split):
            return None
        if self.feedback is None or self.feedback.empty:
            return self.queries.train
        known = self.feedback[self.feedback["movie_id"].isin(self.catalog.movies["id"])]
        return pd.concat([self.queries.train, known], ignore_index=True)

    def fingerprints(self) -> TrainedOn:
        interactions = _fingerprint(self.interactions) if self.interactions is not None else None
        return TrainedOn(catalog=_fingerprint(self.catalog), interactions=interactions)


def load_training_data(
    catalog: Path,
    interactions: Path | None,
    skip_invalid: bool = False,
    skip_unknown: bool = False,
    metrics_dir: Path | None = None,
    feedback_per_source: int | None = None,
) -> TrainingData:
    """Load and validate everything a training run needs, before anything is written.

    With `metrics_dir`, positive feedback the API recorded there joins the training ratings
    (at most `feedback_per_source` events of any one client).
    """
    loaded_catalog = load_catalog(catalog, skip_invalid=skip_invalid)
    if len(loaded_catalog) < MIN_MOVIES:
        raise DataError(
            f"{catalog}: {len(loaded_catalog)} usable movies; at least {MIN_MOVIES} are needed to recommend one for another"
        )
    loaded_interactions = (
        load_interactions(interactions, loaded_catalog, skip_unknown=skip_unknown) if interactions else None
    )
    if loaded_interactions is not None:
        loaded_catalog = with_rating_popularity(loaded_catalog, loaded_interactions)
        queries: EvaluationSet = split_interactions(loaded_interactions.ratings)
    else:
        queries = proxy_sample(loaded_catalog.movies)
    feedback = feedback_positives(metrics_dir, feedback_per_source) if metrics_dir is not None else None
    return TrainingData(loaded_catalog, loaded_interactions, queries, feedback)


@dataclass(frozen=True)
class Candidate:
    """A fitted, evaluated pipeline that is not saved yet."""

    kind: str
    params: dict[str, Any]
    pipeline: Pipeline
    report: EvaluationReport
    train_seconds: float
    selection: Selection | None = None  # how tuning chose `params`, when it did


def fit_candidate(
    settings: Settings,
    data: TrainingData,
    kind: str = "tfidf",
    params: dict[str, Any] | None = None,
    queried_only: bool = False,
    fitted_text: FittedText | None = None,
    shared: SharedSignals | None = None,
) -> Candidate:
    """Fit one pipeline of `kind` with `params` on the training data and score it on `data.queries`.

    `queried_only` ranks the neighbours of the queries' movies alone: the same score, for a
    pipeline that is compared and dropped, never saved. `fitted_text` reuses text steps
    fitted on the same catalogue, `shared` signals fitted on the same ratings
    (`fit_pipeline`). The neighbours of a pipeline fitted for every movie are ranked by the
    configured engine (`movie_r.engines`).
    """
    resources = {"recommender__n_neighbors": settings.neighbours, "recommender__candidates": settings.candidates}
    params = kind_params(kind, {**resources, **(params or {})})
    queried = None
    if queried_only and isinstance(data.queries, Split):
        queried = np.unique(np.fromiter((query.movie_id for query in data.queries.queries), dtype=np.int64))
    started = time.perf_counter()
    # a pipeline fitted to be compared and dropped ranks a few thousand movies: no engine
    with nullcontext(LOCAL) if queried_only else engine_for(settings) as engine:
        pipeline = fit_pipeline(
            build_pipeline(kind, params, settings.block_memory_mb),
            data.catalog.movies,
            data.train_ratings,
            queried,
            fitted_text,
            shared,
            engine.runner,
        )
    train_seconds = time.perf_counter() - started
    report = evaluate(Recommender(pipeline, "candidate", settings.fuzzy_threshold), data.queries)
    return Candidate(kind, params, pipeline, report, train_seconds)


def _fingerprint(source: Catalog | Interactions) -> FileFingerprint:
    return FileFingerprint(path=str(source.source), sha256=source.fingerprint, rows=len(source))
