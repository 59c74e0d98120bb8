"""Building and fitting the model pipeline of each kind: the same contract for all.

Every kind is `MovieText -> TfidfVectorizer -> recommender`; the text steps also answer
cold-start text queries, the last step keeps the precomputed neighbours. A kind is a preset
of plain parameters, so a grid of challengers is a list of parameter dicts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from movie_r.errors import DataError
from movie_r.features import MovieText
from movie_r.models.content import NeighbourRecommender
from movie_r.models.hybrid import BlendedRecommender
from movie_r.models.kinds import DEFAULT_PARAMS, KINDS


def build_pipeline(kind: str = "tfidf", params: dict[str, Any] | None = None, block_memory_mb: int = 256) -> Pipeline:
    """An unfitted pipeline of `kind`, with `params` over the kind's preset and the defaults."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    recommender = NeighbourRecommender if kind == "tfidf" else BlendedRecommender
    pipeline = Pipeline(
        [
            ("text", MovieText()),
            ("tfidf", TfidfVectorizer(dtype=np.float32)),
            ("recommender", recommender(block_memory_mb=block_memory_mb)),
        ]
    )
    return pipeline.set_params(**{**DEFAULT_PARAMS, **KINDS[kind], **(params or {})})


def fit_pipeline(pipeline: Pipeline, movies: pd.DataFrame, interactions: pd.DataFrame | None = None) -> Pipeline:
    """Fit on a catalogue frame; the final step also gets the frame and, if it uses them, the ratings."""
    routed: dict[str, Any] = {"recommender__catalog": movies}
    if isinstance(pipeline[-1], BlendedRecommender):
        routed["recommender__interactions"] = interactions
    try:
        return pipeline.fit(movies, **routed)
    except ValueError as exc:
        if "empty vocabulary" not in str(exc):
            raise
        raise DataError(
            "the catalogue's titles, genres and overviews hold no word to compare movies by (only stop words?)"
        ) from None


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a manifest stores them (tuples become lists)."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in params.items()}


def restore_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters read back from a manifest, ready for `build_pipeline`."""
    return {name: tuple(value) if isinstance(value, list) else value for name, value in params.items()}
