"""Exact top-K neighbours of every row, computed in row blocks.

The full n x n similarity matrix is never built: each block of rows is scored against all
rows, reduced to its K best with `argpartition`, and dropped, so memory is O(n*K) plus
one block whose size follows a memory budget. Time is still quadratic in n.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from movie_r.progress import progress

BYTES_PER_CELL = 4 + 8  # float32 similarity + int64 argpartition index

BlockScores = Callable[[int, int], np.ndarray]  # (start, stop) -> dense (stop - start) x n scores
RowMask = Callable[[np.ndarray], np.ndarray]  # rows -> which of them may be returned (filters)


def block_rows(n_items: int, memory_mb: int) -> int:
    """How many rows one block may hold within `memory_mb`."""
    return max(1, min(n_items, (memory_mb << 20) // max(1, n_items * BYTES_PER_CELL)))


def cosine_blocks(matrix: sp.spmatrix) -> BlockScores:
    """Blocks of cosine similarity between L2-normalised rows (a sparse product per block)."""
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    transposed = matrix.T.tocsr()

    def scores(start: int, stop: int) -> np.ndarray:
        return safe_sparse_dot(matrix[start:stop], transposed, dense_output=True).astype(np.float32, copy=False)

    return scores


def best_rows(scores: np.ndarray, k: int, allowed: RowMask | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k best allowed rows with a positive score, best first, and their scores.

    Only positive scores can be returned, and a short query scores most of the catalogue
    zero, so the ranking starts from those; sorting a few hundred of them is enough
    unless `allowed` rejects most, and only then are all of them sorted.
    """
    positive = np.flatnonzero(scores > 0)
    n_positive = len(positive)
    candidates = min(n_positive, max(4 * k, 200))
    while True:
        if candidates < n_positive:
            rows = positive[np.argpartition(scores[positive], n_positive - candidates)[n_positive - candidates :]]
        else:
            rows = positive
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        if allowed is not None:
            rows = rows[allowed(rows)]
        if len(rows) >= k or candidates == n_positive:
            return rows[:k], scores[rows[:k]]
        candidates = n_positive


def top_k_neighbours(matrix: sp.spmatrix, k: int, memory_mb: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Top-K cosine neighbours of the (L2-normalised) rows of `matrix`."""
    return top_k_from_blocks(matrix.shape[0], cosine_blocks(matrix), k, memory_mb)


def top_k_from_blocks(n_items: int, scores: BlockScores, k: int, memory_mb: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Indices (int32) and scores (float32) of each row's K best other rows, best first.

    `scores(start, stop)` returns that block of the score matrix; row i never lists itself.
    """
    k = min(k, n_items - 1)
    indices = np.zeros((n_items, max(k, 0)), dtype=np.int32)
    values = np.zeros((n_items, max(k, 0)), dtype=np.float32)
    if k <= 0:
        return indices, values
    rows = block_rows(n_items, memory_mb)
    starts = range(0, n_items, rows)
    for start in progress(starts, total=len(starts), desc="neighbours"):
        stop = min(start + rows, n_items)
        block = scores(start, stop)
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        best = np.argpartition(block, n_items - k, axis=1)[:, n_items - k :]  # no negated copy
        best_scores = np.take_along_axis(block, best, axis=1)
        order = np.argsort(-best_scores, axis=1, kind="stable")
        indices[start:stop] = np.take_along_axis(best, order, axis=1)
        values[start:stop] = np.take_along_axis(best_scores, order, axis=1)
    return indices, values
