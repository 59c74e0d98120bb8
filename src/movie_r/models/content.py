"""Content-based recommender: TF-IDF documents, cosine similarity, precomputed neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from movie_r.neighbours import top_k_neighbours
from movie_r.sparse_rows import sorted_csr


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
        self._remember_catalog(catalog)
        self.item_matrix_ = sorted_csr(normalize(sp.csr_matrix(X, dtype=np.float32)))
        self.neighbors_, self.similarities_ = top_k_neighbours(self.item_matrix_, self.n_neighbors, self.block_memory_mb)
        return self

    def _remember_catalog(self, catalog: pd.DataFrame) -> None:
        """What inference needs to describe and filter movies, in row order."""
        self.ids_ = catalog["id"].to_numpy(dtype=np.int64)
        self.titles_ = catalog["title"].tolist()
        self.genres_ = [tuple(genres) for genres in catalog["genres"]]
        self.years_ = catalog["year"].to_numpy(dtype=np.float64)
        self.popularity_ = catalog["popularity"].to_numpy(dtype=np.float64)

    def row_scores(self, row: int) -> np.ndarray:
        """Scores of every movie for one catalogue row, when the precomputed K are not enough."""
        return self.similarities_to(self.item_matrix_[row])

    def co_liked(self, row: int, others: np.ndarray) -> np.ndarray:
        """How many people liked both `row` and each of `others`; content models know nobody."""
        return np.zeros(len(others), dtype=np.int64)

    def similarities_to(self, vector: sp.spmatrix) -> np.ndarray:
        """Cosine similarity of one (L2-normalised) vector to every movie: O(nnz of the item matrix)."""
        check_is_fitted(self, "item_matrix_")
        dense = np.asarray(vector.todense(), dtype=np.float32).ravel()  # one row: vocabulary-sized, cheap
        return self.item_matrix_ @ dense
