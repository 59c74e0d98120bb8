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

from movie_r.features import MovieText
from movie_r.models.content import NeighbourRecommender
from movie_r.models.hybrid import BlendedRecommender

DEFAULT_PARAMS: dict[str, Any] = {
    "text__title_weight": 2,
    "text__genre_weight": 3,
    "text__overview_weight": 1,
    "text__decade_weight": 1,
    "tfidf__stop_words": "english",
    "tfidf__ngram_range": (1, 1),
    "tfidf__sublinear_tf": True,
    "tfidf__min_df": 1,
    "tfidf__max_df": 0.5,
    "recommender__n_neighbors": 100,
}

# kind -> parameters over DEFAULT_PARAMS; all but tfidf need interactions to mean anything
KINDS: dict[str, dict[str, Any]] = {
    "tfidf": {},
    "popularity": {"recommender__collaborative": "none", "recommender__content_weight": 0.0, "recommender__popularity_weight": 1.0},
    "itemknn": {"recommender__collaborative": "itemknn", "recommender__knn_shrinkage": 10.0},
    "ease": {"recommender__collaborative": "ease", "recommender__ease_l2": 200.0},
    "hybrid": {
        "recommender__collaborative": "itemknn",
        "recommender__knn_shrinkage": 50.0,
        "recommender__blend_shrinkage": 10.0,
        "recommender__sequence_weight": 0.5,
        "recommender__popularity_weight": 0.2,
    },
}


# the configurations `movie-r train --model auto` (and the agent) try per kind, on validation data
GRIDS: dict[str, list[dict[str, Any]]] = {
    "tfidf": [{}, {"text__genre_weight": 5}, {"text__title_weight": 3, "text__genre_weight": 2}],
    "popularity": [{}],
    "itemknn": [{"recommender__knn_shrinkage": shrinkage} for shrinkage in (0.0, 10.0, 50.0)],
    "ease": [{"recommender__ease_l2": l2} for l2 in (50.0, 200.0, 1000.0)],
    "hybrid": [
        {
            "recommender__collaborative": collaborative,
            "recommender__knn_shrinkage": 50.0,
            "recommender__ease_l2": 1000.0,
            "recommender__blend_shrinkage": 10.0,
            "recommender__sequence_weight": sequence,
            "recommender__popularity_weight": weight,
        }
        for collaborative in ("itemknn", "ease")
        for sequence in (0.0, 0.5)
        for weight in (0.2, 0.4)
    ],
}


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
    return pipeline.fit(movies, **routed)


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a manifest stores them (tuples become lists)."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in params.items()}


def restore_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters read back from a manifest, ready for `build_pipeline`."""
    return {name: tuple(value) if isinstance(value, list) else value for name, value in params.items()}
