"""Session signals: what people liked within a few steps of each other in their own history.

People rate in sessions: what someone liked right after X says more about X than what they
liked years apart. Counting only nearby pairs keeps this O(positives x window).
`SessionCoLikes` counts pairs both ways; `NextItems` only forwards in time, the question the
evaluation asks (what will someone who just liked X like next), as session-based kNN and
Markov-chain recommenders do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from movie_r.progress import progress
from movie_r.recommenders.evidence import POSITIVE_RATING, Evidence
from movie_r.recommenders.neighbours import BlockScores, SparseScores, row_top


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

    def sparse_scores(self) -> SparseScores:
        check_is_fitted(self, "matrix_")
        matrix, shrinkage = self.matrix_, self.shrinkage
        norms = np.sqrt(self.counts_.astype(np.float32))

        def scores(rows: np.ndarray, n: int) -> sp.csr_matrix:
            block = sp.csr_matrix(matrix[rows], dtype=np.float32).tocoo()
            block.data /= norms[rows[block.row]] * norms[block.col] + shrinkage + 1e-9
            return row_top(block, n)

        return scores


class NextItems(BaseEstimator):
    """Directed co-occurrence: what people liked within `window` steps after each movie, a
    step of distance d weighing `decay`^(d-1), divided by the target's popularity^`damping`."""

    def __init__(self, window: int = 5, decay: float = 0.8, damping: float = 0.5):
        self.window = window
        self.decay = decay
        self.damping = damping

    def fit(self, X: sp.spmatrix | None = None, y: object = None, evidence: Evidence | None = None) -> NextItems:
        if evidence is None:
            raise ValueError("NextItems.fit needs the evidence (catalogue and ratings)")
        self.matrix_ = sequence_matrix(evidence.interactions, evidence.ids, self.window, directed=True, decay=self.decay)
        counts = evidence.positives.getnnz(axis=1).astype(np.float32)
        self.damping_ = np.where(counts > 0, np.power(np.maximum(counts, 1.0), -self.damping), 0.0).astype(np.float32)
        return self

    def block_scores(self) -> BlockScores:
        check_is_fitted(self, "matrix_")
        matrix, damping = self.matrix_, self.damping_

        def scores(start: int, stop: int) -> np.ndarray:
            return (matrix[start:stop].toarray() * damping[None, :]).astype(np.float32, copy=False)

        return scores

    def sparse_scores(self) -> SparseScores:
        check_is_fitted(self, "matrix_")
        damped = sp.csr_matrix(self.matrix_ @ sp.diags(self.damping_), dtype=np.float32)

        def scores(rows: np.ndarray, n: int) -> sp.csr_matrix:
            return row_top(damped[rows], n)

        return scores


def sequence_matrix(
    ratings: pd.DataFrame, ids: np.ndarray, window: int, directed: bool = False, decay: float = 1.0
) -> sp.csr_matrix:
    """Items x items weights of positives liked within `window` steps of each other: pairs
    earlier -> later, and also later -> earlier unless `directed`; distance d weighs decay^(d-1)."""
    order = ["user_id", "timestamp"] if "timestamp" in ratings else ["user_id"]  # without times, file order
    liked = ratings[ratings["rating"] >= POSITIVE_RATING].sort_values(order, kind="stable")
    rows = pd.Index(ids).get_indexer(liked["movie_id"])
    users = pd.factorize(liked["user_id"])[0]  # codes: comparing millions of id strings is slow and large
    n_items = len(ids)
    matrix = sp.csr_matrix((n_items, n_items), dtype=np.float32)
    # one step's pairs at a time, added into the matrix: all steps' pairs at once held
    # window x positives x 2 coordinates, gigabytes at MovieLens-25M size
    for step in progress(range(1, window + 1), total=window, desc="session pairs"):
        same = (users[:-step] == users[step:]) & (rows[:-step] >= 0) & (rows[step:] >= 0)
        earlier, later = rows[:-step][same], rows[step:][same]
        weights = np.full(len(earlier), decay ** (step - 1), dtype=np.float32)
        pairs = sp.csr_matrix((weights, (earlier, later)), shape=(n_items, n_items))
        matrix = matrix + (pairs if directed else pairs + pairs.T)
    return sp.csr_matrix(matrix, dtype=np.float32)
