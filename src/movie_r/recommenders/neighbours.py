"""Top-K neighbours of every row, computed in row blocks, densely or sparsely.

The full n x n similarity matrix is never built. The dense path scores each block of rows
against all n rows, reduces it to its K best with `argpartition` and drops it: exact, memory
O(n*K) plus one block, time quadratic in n. The sparse path asks each signal for only its
best candidates per row (a sparse product with top-n selection, `sparse_dot_topn`), and
ranks each row over the union of those candidates: no n-wide row is ever allocated, and a
movie few people share likes with costs little.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from movie_r.progress import progress

BYTES_PER_CELL = 4 + 8  # float32 similarity + int64 argpartition index

BlockScores = Callable[[int, int], np.ndarray]  # (start, stop) -> dense (stop - start) x n scores
RowMask = Callable[[np.ndarray], np.ndarray]  # rows -> which of them may be returned (filters)
SparseScores = Callable[[np.ndarray, int], sp.csr_matrix]  # (rows, n) -> each of those rows' n best nonzero scores


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


def top_k_from_blocks(
    n_items: int, scores: BlockScores, k: int, memory_mb: int = 256, run: BlockRunner | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (int32) and scores (float32) of each row's K best other rows, best first.

    `scores(start, stop)` returns that block of the score matrix; row i never lists itself.
    `run` ranks the blocks (`in_process` by default; an engine's runner elsewhere).
    """

    def ranked(rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = int(rows[0]), int(rows[-1]) + 1  # every row, so each block is a range
        block = scores(start, stop)
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        best = np.argpartition(block, n_items - k, axis=1)[:, n_items - k :]  # no negated copy
        best_scores = np.take_along_axis(block, best, axis=1)
        order = np.argsort(-best_scores, axis=1, kind="stable")
        return np.take_along_axis(best, order, axis=1), np.take_along_axis(best_scores, order, axis=1)

    return _by_blocks(n_items, k, memory_mb, ranked, run=run)


BlockRanking = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]  # (rows, k) -> their (len(rows), k) neighbours and scores


RankedBlock = tuple[np.ndarray, np.ndarray, np.ndarray]  # rows, and their (len(rows), k) neighbours and scores


class BlockRunner(Protocol):
    """Ranks blocks of rows, `ranked(block, k)` for every block, and yields each block's rows
    with their results, in any order. `in_process` does it here; an engine
    (`movie_r.engines`) elsewhere, with the same `ranked`, so both give the same arrays."""

    def __call__(self, ranked: BlockRanking, blocks: list[np.ndarray], k: int, desc: str) -> Iterator[RankedBlock]: ...


def in_process(ranked: BlockRanking, blocks: list[np.ndarray], k: int, desc: str) -> Iterator[RankedBlock]:
    """Each block ranked in this process, one after another, with progress."""
    for rows in progress(blocks, total=len(blocks), desc=desc):
        yield (rows, *ranked(rows, k))


def _by_blocks(
    n_items: int, k: int, memory_mb: int, ranked: BlockRanking, rows: np.ndarray | None = None, run: BlockRunner | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The (n, K) neighbour arrays, filled one block of `rows` (all by default) at a time;
    rows not asked for stay empty (score 0)."""
    k = min(k, n_items - 1)
    indices = np.zeros((n_items, max(k, 0)), dtype=np.int32)
    values = np.zeros((n_items, max(k, 0)), dtype=np.float32)
    if k <= 0:
        return indices, values
    wanted = np.arange(n_items) if rows is None else np.asarray(rows, dtype=np.int64)
    size = block_rows(n_items, memory_mb)
    blocks = [wanted[start : start + size] for start in range(0, len(wanted), size)]
    for block, block_indices, block_values in (run or in_process)(ranked, blocks, k, "neighbours"):
        indices[block] = block_indices
        values[block] = block_values
    return indices, values


_threads: ContextVar[int | None] = ContextVar("movie_r_block_threads", default=None)


def threads() -> int:
    """Threads one sparse product may use: every core this process may run on, unless
    `threads_per_block` says otherwise."""
    return _threads.get() or len(os.sched_getaffinity(0))


@contextmanager
def threads_per_block(count: int) -> Iterator[None]:
    """Products inside use `count` threads: an engine that runs one block per core already
    (a Spark task) would otherwise start a thread per core in each."""
    token = _threads.set(count)
    try:
        yield
    finally:
        _threads.reset(token)


def product_top(left: sp.csr_matrix, right: sp.csr_matrix, n: int | None) -> sp.csr_matrix:
    """`left @ right` keeping each row's `n` largest entries (all with None), on every core.

    sparse_dot_topn selects while it multiplies, so a row's full product never exists as an
    n-wide array; it needs both sides of one float kind.
    """
    from sparse_dot_topn import sp_matmul_topn

    return sp_matmul_topn(
        sp.csr_matrix(left, dtype=np.float32),
        sp.csr_matrix(right, dtype=np.float32),
        top_n=right.shape[1] if n is None else max(1, n),
        n_threads=threads(),
    )


def best_first(values: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """The order `np.lexsort((-values, owners))` gives (by owner, largest value first, ties
    in place), as one stable sort of a 64-bit key: the owner above the float32 value's bits
    mapped so that unsigned order is descending value order. Two-key lexsort was most of
    selecting a block's best."""
    bits = (values.astype(np.float32) + np.float32(0)).view(np.uint32)  # + 0 makes -0.0 equal 0.0, as lexsort has them
    ascending = np.where(bits >> np.uint32(31), ~bits, bits | np.uint32(0x80000000))
    key = (owners.astype(np.uint64) << np.uint64(32)) | (~ascending).astype(np.uint64)
    return np.argsort(key, kind="stable")


def row_top(block: sp.spmatrix, n: int) -> sp.csr_matrix:
    """Each row's `n` largest stored entries of a sparse block (all of a row with fewer)."""
    block = sp.csr_matrix(block, dtype=np.float32)
    counts = np.diff(block.indptr)
    if counts.max(initial=0) <= n:
        return block
    owners = np.repeat(np.arange(block.shape[0]), counts)
    order = best_first(block.data, owners)
    keep = order[np.arange(len(order)) - block.indptr[owners[order]] < n]
    keep.sort()
    kept_owners = owners[keep]
    indptr = np.searchsorted(kept_owners, np.arange(block.shape[0] + 1))
    return sp.csr_matrix((block.data[keep], block.indices[keep], indptr), shape=block.shape)


def top_k_from_sparse(
    n_items: int,
    scores: Callable[[np.ndarray], sp.csr_matrix],
    k: int,
    memory_mb: int = 256,
    rows: np.ndarray | None = None,
    run: BlockRunner | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`top_k_from_blocks` over sparse blocks of candidates: what a row does not store, it does
    not rank. A row with fewer than K candidates is padded with score 0 (never answered).
    With `rows`, only those rows are ranked; the rest stay empty."""

    def ranked(block_rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        block = sp.csr_matrix(scores(block_rows))
        owners = np.repeat(np.arange(len(block_rows)), np.diff(block.indptr))
        not_self = block.indices != block_rows[owners]
        best = row_top(sp.csr_matrix((block.data[not_self], (owners[not_self], block.indices[not_self])), shape=block.shape), k)
        counts = np.diff(best.indptr)
        owners = np.repeat(np.arange(len(block_rows)), counts)
        order = best_first(best.data, owners)
        rank = np.arange(len(order)) - best.indptr[owners[order]]
        indices = np.zeros((len(block_rows), k), dtype=np.int32)
        values = np.zeros((len(block_rows), k), dtype=np.float32)
        indices[owners[order], rank] = best.indices[order]
        values[owners[order], rank] = best.data[order]
        return indices, values

    return _by_blocks(n_items, k, memory_mb, ranked, rows, run)
