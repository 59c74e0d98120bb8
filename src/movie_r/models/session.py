"""Session co-likes: what people liked within a few steps of each other in their own history.

People rate in sessions: what someone liked right after X says more about X than what they
liked years apart. Counting only nearby pairs keeps this O(positives x window).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from movie_r.data import POSITIVE_RATING
from movie_r.models.evidence import Evidence
from movie_r.neighbours import BlockScores


class SessionCoLikes(BaseEstimator):
    """Symmetric counts of positives liked within `window` steps, normalised like cosine and
    shrunk like item-kNN."""

    def __init__(self, window: int = 10, shrinkage: float = 50.0):
        self.window = window
        self.shrinkage = shrinkage

    def fit(self, X: sp.spmatrix | None = None, y: object = None, evidence: Evidence | None = None) -> SessionCoLikes:
        if evidence is None:
            raise ValueError("SessionCoLikes.fit needs the evidence (catalogue and ratings)")
        self.matrix_ = sequence_matrix(evidence.interactions, evidence.ids, self.window)
        self.counts_ = evidence.positives.getnnz(axis=1).astype(np.int32)
        return self

    def block_scores(self) -> BlockScores:
        check_is_fitted(self, "matrix_")
        matrix, shrinkage = self.matrix_, self.shrinkage
        norms = np.sqrt(self.counts_.astype(np.float32))

        def scores(start: int, stop: int) -> np.ndarray:
            block = matrix[start:stop].toarray()
            return block / (norms[start:stop, None] * norms[None, :] + shrinkage + 1e-9)

        return scores


def sequence_matrix(ratings: pd.DataFrame, ids: np.ndarray, window: int) -> sp.csr_matrix:
    """Symmetric items x items counts of positives liked within `window` steps of each other."""
    order = ["user_id", "timestamp"] if "timestamp" in ratings else ["user_id"]  # without times, file order
    liked = ratings[ratings["rating"] >= POSITIVE_RATING].sort_values(order, kind="stable")
    rows = pd.Index(ids).get_indexer(liked["movie_id"])
    users = liked["user_id"].to_numpy()
    first, second = [], []
    for step in range(1, window + 1):
        same = (users[:-step] == users[step:]) & (rows[:-step] >= 0) & (rows[step:] >= 0)
        first += [rows[:-step][same], rows[step:][same]]
        second += [rows[step:][same], rows[:-step][same]]
    pairs_from, pairs_to = np.concatenate(first or [[]]).astype(np.int64), np.concatenate(second or [[]]).astype(np.int64)
    matrix = sp.csr_matrix(
        (np.ones(len(pairs_from), dtype=np.float32), (pairs_from, pairs_to)), shape=(len(ids), len(ids))
    )
    matrix.sum_duplicates()
    return matrix
