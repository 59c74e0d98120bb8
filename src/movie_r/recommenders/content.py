"""Content similarity: cosine between the TF-IDF rows of two movies."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from movie_r.recommenders.evidence import Evidence
from movie_r.recommenders.neighbours import BlockScores, cosine_blocks
from movie_r.recommenders.sparse_rows import sorted_csr


class ContentSimilarity(BaseEstimator):
    """Keeps the L2-normalised TF-IDF matrix; scores are cosine similarities, in row blocks."""

    def fit(self, X: sp.spmatrix, y: object = None, evidence: Evidence | None = None) -> ContentSimilarity:
        self.item_matrix_ = sorted_csr(normalize(sp.csr_matrix(X, dtype=np.float32)))
        return self

    def block_scores(self) -> BlockScores:
        check_is_fitted(self, "item_matrix_")
        return cosine_blocks(self.item_matrix_)

    def pair_scores(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Cosine similarity of each (row, column) pair alone, not of every pair in a block."""
        check_is_fitted(self, "item_matrix_")
        matrix = self.item_matrix_
        return np.asarray(matrix[rows].multiply(matrix[columns]).sum(axis=1), dtype=np.float32).ravel()
