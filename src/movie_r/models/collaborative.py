"""Item-item similarity learned from who liked what: cosine item-kNN and EASE.

Both work on the binary item x user matrix of positives (rating >= 4) and hand their
scores out in row blocks, so the neighbour precomputation never holds an n x n matrix.
EASE's closed form needs an items x items inverse, which is O(items^2) memory and
O(items^3) time: it is computed only over the `max_items` most-liked movies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from movie_r.data import POSITIVE_RATING
from movie_r.neighbours import BlockScores


def positives_matrix(ratings: pd.DataFrame, ids: np.ndarray) -> sp.csr_matrix:
    """Binary items x users matrix (rows in catalogue order) of ratings >= POSITIVE_RATING."""
    liked = ratings[ratings["rating"] >= POSITIVE_RATING]
    rows = pd.Index(ids).get_indexer(liked["movie_id"])
    known = rows >= 0
    users, _ = pd.factorize(liked["user_id"])
    matrix = sp.csr_matrix(
        (np.ones(int(known.sum()), dtype=np.float32), (rows[known], users[known])),
        shape=(len(ids), max(1, int(users.max(initial=-1)) + 1)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def itemknn_blocks(item_users: sp.csr_matrix, shrinkage: float) -> BlockScores:
    """Cosine similarity of items' liker sets, shrunk towards 0 when few people overlap."""
    norms = np.sqrt(np.asarray(item_users.getnnz(axis=1), dtype=np.float32))
    transposed = item_users.T.tocsr()

    def scores(start: int, stop: int) -> np.ndarray:
        overlap = safe_sparse_dot(item_users[start:stop], transposed, dense_output=True).astype(np.float32, copy=False)
        return overlap / (norms[start:stop, None] * norms[None, :] + shrinkage + 1e-9)

    return scores


def ease_weights(item_users: sp.csr_matrix, l2: float, max_items: int) -> tuple[np.ndarray, np.ndarray]:
    """EASE (Steck 2019) over the `max_items` most-liked items: (their rows, weights B, zero diagonal)."""
    counts = item_users.getnnz(axis=1)
    kept = np.sort(np.argsort(-counts, kind="stable")[: min(max_items, int((counts > 0).sum()))])
    subset = item_users[kept]
    gram = safe_sparse_dot(subset, subset.T, dense_output=True).astype(np.float64)
    gram[np.diag_indices_from(gram)] += l2
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return kept.astype(np.int32), weights.astype(np.float32)


def ease_blocks(n_items: int, kept: np.ndarray, weights: np.ndarray) -> BlockScores:
    """Blocks of EASE item-item weights; items outside the kept set score 0."""
    position = np.full(n_items, -1, dtype=np.int64)
    position[kept] = np.arange(len(kept))

    def scores(start: int, stop: int) -> np.ndarray:
        block = np.zeros((stop - start, n_items), dtype=np.float32)
        inside = position[start:stop] >= 0
        block[np.ix_(inside, kept)] = weights[position[start:stop][inside]]
        return block

    return scores


def sequence_matrix(ratings: pd.DataFrame, ids: np.ndarray, window: int) -> sp.csr_matrix:
    """Symmetric items x items counts of positives liked within `window` steps of each other.

    People rate in sessions: what someone liked right after X says more about X than what
    they liked years apart. Counting only nearby pairs keeps this O(positives x window).
    """
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


def sequence_blocks(matrix: sp.csr_matrix, counts: np.ndarray, shrinkage: float) -> BlockScores:
    """Nearby-in-time co-likes, normalised like cosine and shrunk like item-kNN."""
    norms = np.sqrt(counts.astype(np.float32))

    def scores(start: int, stop: int) -> np.ndarray:
        block = matrix[start:stop].toarray()
        return block / (norms[start:stop, None] * norms[None, :] + shrinkage + 1e-9)

    return scores
