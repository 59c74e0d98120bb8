"""RP3beta (Paudel et al. 2016): three-step random walks item -> user -> item, popularity-damped.

    W[i, j] = sum_u P(u | i)^alpha * P(j | u)^alpha / popularity(j)^beta

where P(u | i) spreads an item's weight evenly over the people who liked it and P(j | u) a
person's over what they liked. alpha sharpens or flattens the walk; beta > 0 lowers what
everybody likes, which plain item-kNN and co-counts favour. The product is sparse (items
share few likers), computed per block of rows like the other signals.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.preprocessing import normalize
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from movie_r.recommenders.evidence import Evidence
from movie_r.recommenders.neighbours import BlockScores, SparseScores, product_top


class RP3beta(BaseEstimator):
    """Random-walk item similarity over positives, damped by the target's popularity^beta."""

    def __init__(self, alpha: float = 1.0, beta: float = 0.5):
        self.alpha = alpha
        self.beta = beta

    def fit(self, X: sp.spmatrix | None = None, y: object = None, evidence: Evidence | None = None) -> RP3beta:
        if evidence is None:
            raise ValueError("RP3beta.fit needs the evidence (catalogue and ratings)")
        item_users = sp.csr_matrix(evidence.positives, dtype=np.float32)
        item_to_user = normalize(item_users, norm="l1", axis=1)
        user_to_item = normalize(item_users.T.tocsr(), norm="l1", axis=1)
        if self.alpha != 1.0:
            item_to_user.data **= self.alpha
            user_to_item.data **= self.alpha
        counts = np.asarray(item_users.getnnz(axis=1), dtype=np.float32)
        self.item_to_user_ = item_to_user
        self.user_to_item_ = user_to_item
        self.damping_ = np.where(counts > 0, np.power(np.maximum(counts, 1.0), -self.beta), 0.0).astype(np.float32)
        return self

    def block_scores(self) -> BlockScores:
        check_is_fitted(self, "damping_")
        item_to_user, user_to_item, damping = self.item_to_user_, self.user_to_item_, self.damping_

        def scores(start: int, stop: int) -> np.ndarray:
            walk = safe_sparse_dot(item_to_user[start:stop], user_to_item, dense_output=True)
            return (np.asarray(walk, dtype=np.float32) * damping[None, :]).astype(np.float32, copy=False)

        return scores

    def sparse_scores(self) -> SparseScores:
        """Each row's n best walks: the damping is folded into the right factor, so the
        selection during the product is exact."""
        check_is_fitted(self, "damping_")
        item_to_user = self.item_to_user_
        damped = sp.csr_matrix(self.user_to_item_ @ sp.diags(self.damping_), dtype=np.float32)

        def scores(rows: np.ndarray, n: int) -> sp.csr_matrix:
            return product_top(item_to_user[rows], damped, n)

        return scores
