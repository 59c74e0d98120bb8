"""Blended recommender: collaborative similarity where people's likes say something, content
similarity where they do not, and an optional popularity prior.

For query movie i and candidate j:

    score(i, j) = a_i * cf(i, j) + (1 - a_i) * content_weight * content(i, j) + popularity_weight * prior(j)
    cf(i, j)    = knn_or_ease(i, j) + sequence_weight * sequence(i, j)      (each row scaled to max 1)
    a_i = n_i / (n_i + blend_shrinkage)          (n_i: people who liked i in the training data)

so a movie nobody rated yet (a new catalogue entry) is answered by content alone, and the
trust in collaborative evidence grows smoothly with the evidence. With blend_shrinkage = 0
every movie with at least one like is answered by collaborative similarity alone (pure
item-kNN or EASE); with content_weight = 0 and only the prior, it is the popularity baseline.
`prior(j) = log(1 + n_j) / log(1 + max n)`, from training interactions only; with no
ratings at all, from the catalogue's own popularity column instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from movie_r.models.collaborative import (
    ease_blocks,
    ease_weights,
    itemknn_blocks,
    positives_matrix,
    sequence_blocks,
    sequence_matrix,
)
from movie_r.models.content import NeighbourRecommender
from movie_r.neighbours import BlockScores, cosine_blocks, top_k_from_blocks
from movie_r.sparse_rows import overlap, row_entries, rows_entries, sorted_csr

COLLABORATIVE = ("none", "itemknn", "ease")
# Without ratings every kind still fits: its collaborative part then knows nobody, and
# the blend falls back to content (and the popularity prior to the catalogue's own).
NO_RATINGS = pd.DataFrame(
    {"user_id": pd.Series(dtype=str), "movie_id": pd.Series(dtype="int64"), "rating": pd.Series(dtype=float),
     "timestamp": pd.Series(dtype=float)}
)  # fmt: skip


class BlendedRecommender(NeighbourRecommender):
    """Final pipeline step blending collaborative and content similarity (see module doc)."""

    def __init__(
        self,
        n_neighbors: int = 100,
        block_memory_mb: int = 256,
        collaborative: str = "itemknn",
        knn_shrinkage: float = 10.0,
        ease_l2: float = 200.0,
        ease_max_items: int = 3000,
        blend_shrinkage: float = 0.0,
        content_weight: float = 1.0,
        popularity_weight: float = 0.0,
        sequence_weight: float = 0.0,
        sequence_window: int = 10,
    ):
        super().__init__(n_neighbors=n_neighbors, block_memory_mb=block_memory_mb)
        self.collaborative = collaborative
        self.knn_shrinkage = knn_shrinkage
        self.ease_l2 = ease_l2
        self.ease_max_items = ease_max_items
        self.blend_shrinkage = blend_shrinkage
        self.content_weight = content_weight
        self.popularity_weight = popularity_weight
        self.sequence_weight = sequence_weight
        self.sequence_window = sequence_window

    def fit(
        self, X: sp.spmatrix, y: object = None, catalog: pd.DataFrame | None = None, interactions: pd.DataFrame | None = None
    ) -> BlendedRecommender:
        if self.collaborative not in COLLABORATIVE:
            raise ValueError(f"collaborative must be one of {COLLABORATIVE}, got {self.collaborative!r}")
        if catalog is None or len(catalog) != X.shape[0]:
            raise ValueError("fit needs the catalogue frame the matrix rows were built from")
        self._remember_catalog(catalog)
        self.item_matrix_ = sorted_csr(normalize(sp.csr_matrix(X, dtype=np.float32)))
        ratings = interactions if interactions is not None else NO_RATINGS
        self.positives_ = sorted_csr(positives_matrix(ratings, self.ids_))
        counts = self.positives_.getnnz(axis=1).astype(np.float32)
        self.interaction_counts_ = counts.astype(np.int32)
        if self.blend_shrinkage > 0:
            self.cf_trust_ = counts / (counts + self.blend_shrinkage)
        else:
            self.cf_trust_ = (counts > 0).astype(np.float32)
        self.prior_ = _log_share(counts if counts.any() else catalog["popularity"].to_numpy(dtype=np.float32).clip(0))
        self.sequence_ = (
            sequence_matrix(ratings, self.ids_, self.sequence_window)
            if self.sequence_weight and self.collaborative != "none"
            else None
        )
        self.ease_items_: np.ndarray | None = None
        self.ease_weights_: np.ndarray | None = None
        if self.collaborative == "ease":
            self.ease_items_, self.ease_weights_ = ease_weights(self.positives_, self.ease_l2, self.ease_max_items)
        self.neighbors_, self.similarities_ = top_k_from_blocks(
            len(self.ids_), self._blocks(), self.n_neighbors, self.block_memory_mb
        )
        return self

    def row_scores(self, row: int) -> np.ndarray:
        return self._blocks()(row, row + 1)[0]

    def co_liked(self, row: int, others: np.ndarray) -> np.ndarray:
        owners, users, _ = rows_entries(self.positives_, others)
        _, shared = overlap(row_entries(self.positives_, row)[0], users)
        return np.bincount(owners[shared], minlength=len(others))

    def _blocks(self) -> BlockScores:
        content = cosine_blocks(self.item_matrix_)
        if self.collaborative == "itemknn":
            collaborative = itemknn_blocks(self.positives_, self.knn_shrinkage)
        elif self.ease_items_ is not None and self.ease_weights_ is not None:  # collaborative == "ease"
            collaborative = ease_blocks(len(self.ids_), self.ease_items_, self.ease_weights_)
        else:
            collaborative = None
        sequence = (
            sequence_blocks(self.sequence_, self.interaction_counts_, self.knn_shrinkage) if self.sequence_ is not None else None
        )

        def scores(start: int, stop: int) -> np.ndarray:
            trust = self.cf_trust_[start:stop, None] if collaborative is not None else 0.0
            block = content(start, stop) * ((1.0 - trust) * self.content_weight)
            if collaborative is not None:
                evidence = _row_scaled(collaborative(start, stop))
                if sequence is not None:
                    evidence += self.sequence_weight * _row_scaled(sequence(start, stop))
                block += trust * evidence
            if self.popularity_weight:
                block += self.popularity_weight * self.prior_[None, :]
            return block.astype(np.float32, copy=False)

        return scores


def _log_share(counts: np.ndarray) -> np.ndarray:
    """`log(1 + n) / log(1 + max n)`: a prior in 0..1 that does not let a few blockbusters flatten the rest."""
    top = np.log1p(counts.max(initial=0.0))
    return (np.log1p(counts) / top if top > 0 else np.zeros_like(counts)).astype(np.float32)


def _row_scaled(block: np.ndarray) -> np.ndarray:
    """Each row divided by its largest value, so collaborative scores share content's 0..1 scale."""
    top = block.max(axis=1, keepdims=True)
    return np.divide(block, top, out=np.zeros_like(block), where=top > 0)
