"""Item-item similarity learned from who liked what: cosine item-kNN and EASE.

Both work on the binary item x user matrix of positives (rating >= 4) and hand their
scores out in row blocks, so the neighbour precomputation never holds an n x n matrix.
EASE's closed form needs an items x items inverse, which is O(items^2) memory and
O(items^3) time: it is computed only over the `max_items` most-liked movies.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from movie_r.recommenders.evidence import Evidence
from movie_r.recommenders.neighbours import BlockScores, SparseScores, product_top, row_top


def _needs(evidence: Evidence | None, name: str) -> Evidence:
    if evidence is None:
        raise ValueError(f"{name}.fit needs the evidence (catalogue and ratings)")
    return evidence


class ItemKNN(BaseEstimator):
    """Cosine similarity of items' liker sets, shrunk towards 0 when few people overlap."""

    def __init__(self, shrinkage: float = 10.0):
        self.shrinkage = shrinkage

    def fit(self, X: sp.spmatrix | None = None, y: object = None, evidence: Evidence | None = None) -> ItemKNN:
        self.positives_ = _needs(evidence, "ItemKNN").positives
        return self

    def block_scores(self) -> BlockScores:
        check_is_fitted(self, "positives_")
        item_users = self.positives_
        norms = np.sqrt(np.asarray(item_users.getnnz(axis=1), dtype=np.float32))
        transposed = item_users.T.tocsr()
        shrinkage = self.shrinkage

        def scores(start: int, stop: int) -> np.ndarray:
            overlap = safe_sparse_dot(item_users[start:stop], transposed, dense_output=True).astype(np.float32, copy=False)
            return overlap / (norms[start:stop, None] * norms[None, :] + shrinkage + 1e-9)

        return scores

    def sparse_scores(self) -> SparseScores:
        """The same scores at the pairs that share a liker, each row cut to its n best.

        Shrinkage makes the score no product of two factors, so the product is complete
        (sparse, on every core) and the cut comes after the exact scores.
        """
        check_is_fitted(self, "positives_")
        item_users = self.positives_
        norms = np.sqrt(np.asarray(item_users.getnnz(axis=1), dtype=np.float32))
        transposed = item_users.T.tocsr()
        shrinkage = self.shrinkage

        def scores(rows: np.ndarray, n: int) -> sp.csr_matrix:
            overlap = product_top(item_users[rows], transposed, None).tocoo()
            overlap.data /= norms[rows[overlap.row]] * norms[overlap.col] + shrinkage + 1e-9
            return row_top(overlap, n)

        return scores


class EASE(BaseEstimator):
    """EASE (Steck 2019) over the `max_items` most-liked items; items outside that set score 0."""

    def __init__(self, l2: float = 200.0, max_items: int = 3000):
        self.l2 = l2
        self.max_items = max_items

    def fit(self, X: sp.spmatrix | None = None, y: object = None, evidence: Evidence | None = None) -> EASE:
        item_users = _needs(evidence, "EASE").positives
        counts = item_users.getnnz(axis=1)
        kept = np.sort(np.argsort(-counts, kind="stable")[: min(self.max_items, int((counts > 0).sum()))])
        subset = item_users[kept]
        gram = safe_sparse_dot(subset, subset.T, dense_output=True).astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)[None, :]
        np.fill_diagonal(weights, 0.0)
        self.n_items_ = item_users.shape[0]
        self.items_, self.weights_ = kept.astype(np.int32), weights.astype(np.float32)
        return self

    def block_scores(self) -> BlockScores:
        check_is_fitted(self, "weights_")
        n_items, kept, weights = self.n_items_, self.items_, self.weights_
        position = np.full(n_items, -1, dtype=np.int64)
        position[kept] = np.arange(len(kept))

        def scores(start: int, stop: int) -> np.ndarray:
            block = np.zeros((stop - start, n_items), dtype=np.float32)
            inside = position[start:stop] >= 0
            block[np.ix_(inside, kept)] = weights[position[start:stop][inside]]
            return block

        return scores

    def sparse_scores(self) -> SparseScores:
        """Each kept row's n best weights (EASE is dense within the kept items)."""
        check_is_fitted(self, "weights_")
        n_items, kept, weights = self.n_items_, self.items_, self.weights_
        position = np.full(n_items, -1, dtype=np.int64)
        position[kept] = np.arange(len(kept))

        def scores(rows: np.ndarray, n: int) -> sp.csr_matrix:
            local = position[rows]
            inside = np.flatnonzero(local >= 0)
            best = row_top(sp.csr_matrix(weights[local[inside]]), n).tocoo()
            return sp.csr_matrix((best.data, (inside[best.row], kept[best.col])), shape=(len(rows), n_items))

        return scores
