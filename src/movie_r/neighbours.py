"""Exact top-K cosine neighbours of every row, computed in row blocks.

The full n x n similarity matrix is never built: each block of rows is multiplied by all
rows, reduced to its K best with `argpartition`, and dropped, so memory is O(n*K) plus
one block whose size follows a memory budget. Time is still quadratic in n.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from movie_r.progress import progress

BYTES_PER_CELL = 4 + 8  # float32 similarity + int64 argpartition index


def block_rows(n_items: int, memory_mb: int) -> int:
    """How many rows one block may hold within `memory_mb`."""
    return max(1, min(n_items, (memory_mb << 20) // max(1, n_items * BYTES_PER_CELL)))


def top_k_neighbours(matrix: sp.csr_matrix, k: int, memory_mb: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Indices (int32) and cosine similarities (float32) of each row's K nearest other rows.

    `matrix` rows must be L2-normalised. Row i's neighbours are sorted by decreasing
    similarity and never include i itself.
    """
    n_items = matrix.shape[0]
    k = min(k, n_items - 1)
    indices = np.zeros((n_items, max(k, 0)), dtype=np.int32)
    scores = np.zeros((n_items, max(k, 0)), dtype=np.float32)
    if k <= 0:
        return indices, scores
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    transposed = matrix.T.tocsr()
    rows = block_rows(n_items, memory_mb)
    starts = range(0, n_items, rows)
    for start in progress(starts, total=len(starts), desc="neighbours"):
        stop = min(start + rows, n_items)
        block = safe_sparse_dot(matrix[start:stop], transposed, dense_output=True).astype(np.float32, copy=False)
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        best = np.argpartition(block, n_items - k, axis=1)[:, n_items - k :]  # no negated copy
        best_scores = np.take_along_axis(block, best, axis=1)
        order = np.argsort(-best_scores, axis=1, kind="stable")
        indices[start:stop] = np.take_along_axis(best, order, axis=1)
        scores[start:stop] = np.take_along_axis(best_scores, order, axis=1)
    return indices, scores
