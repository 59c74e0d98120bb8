"""Popularity: the same prior for every query, from how many people liked each movie."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from movie_r.recommenders.evidence import Evidence, log_share
from movie_r.recommenders.neighbours import BlockScores


class Popularity(BaseEstimator):
    """`prior(j) = log(1 + n_j) / log(1 + max n)`, n_j the likes in the training data; with no
    ratings at all, from the catalogue's own popularity column instead."""

    def fit(self, X: sp.spmatrix | None = None, y: object = None, evidence: Evidence | None = None) -> Popularity:
        if evidence is None:
            raise ValueError("Popularity.fit needs the evidence (catalogue and ratings)")
        counts = evidence.like_counts
        self.prior_ = log_share(counts if counts.any() else evidence.catalog_popularity)
        return self

    def block_scores(self) -> BlockScores:
        check_is_fitted(self, "prior_")
        prior = self.prior_

        def scores(start: int, stop: int) -> np.ndarray:
            return np.broadcast_to(prior[None, :], (stop - start, len(prior)))

        return scores
