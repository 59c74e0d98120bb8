"""Content-based recommender: TF-IDF documents, cosine similarity, precomputed neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from movie_r.features import MovieText
from movie_r.neighbours import top_k_neighbours

KIND = "tfidf"

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


class NeighbourRecommender(BaseEstimator):
    """Final pipeline step: keeps each movie's top-K neighbours and what inference needs.

    `fit(X, catalog=...)` takes the TF-IDF matrix from the previous steps and the catalogue
    frame the rows came from (routed as the `recommender__catalog` fit parameter).
    """

    def __init__(self, n_neighbors: int = 100, block_memory_mb: int = 256):
        self.n_neighbors = n_neighbors
        self.block_memory_mb = block_memory_mb

    def fit(self, X: sp.spmatrix, y: object = None, catalog: pd.DataFrame | None = None) -> NeighbourRecommender:
        if catalog is None or len(catalog) != X.shape[0]:
            raise ValueError("fit needs the catalogue frame the matrix rows were built from")
        self.item_matrix_ = normalize(sp.csr_matrix(X, dtype=np.float32))
        self.neighbors_, self.similarities_ = top_k_neighbours(self.item_matrix_, self.n_neighbors, self.block_memory_mb)
        self.ids_ = catalog["id"].to_numpy(dtype=np.int64)
        self.titles_ = catalog["title"].tolist()
        self.genres_ = [tuple(genres) for genres in catalog["genres"]]
        self.years_ = catalog["year"].to_numpy(dtype=np.float64)
        self.popularity_ = catalog["popularity"].to_numpy(dtype=np.float64)
        return self

    def similarities_to(self, vector: sp.spmatrix) -> np.ndarray:
        """Cosine similarity of one (L2-normalised) vector to every movie: O(nnz), for cold starts."""
        check_is_fitted(self, "item_matrix_")
        dense = np.asarray(vector.todense(), dtype=np.float32).ravel()  # one row: vocabulary-sized, cheap
        return self.item_matrix_ @ dense


def build_pipeline(params: dict[str, Any] | None = None, block_memory_mb: int = 256) -> Pipeline:
    """An unfitted content pipeline: MovieText -> TfidfVectorizer -> NeighbourRecommender."""
    pipeline = Pipeline(
        [
            ("text", MovieText()),
            ("tfidf", TfidfVectorizer(dtype=np.float32)),
            ("recommender", NeighbourRecommender(block_memory_mb=block_memory_mb)),
        ]
    )
    return pipeline.set_params(**{**DEFAULT_PARAMS, **(params or {})})


def fit_pipeline(pipeline: Pipeline, movies: pd.DataFrame) -> Pipeline:
    """Fit on a catalogue frame, handing the frame to the final step too."""
    return pipeline.fit(movies, recommender__catalog=movies)


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a manifest stores them (tuples become lists)."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in params.items()}


def restore_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters read back from a manifest, ready for `build_pipeline`."""
    return {name: tuple(value) if isinstance(value, list) else value for name, value in params.items()}
