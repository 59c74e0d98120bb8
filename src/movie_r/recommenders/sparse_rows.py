"""Reading rows of CSR matrices at request time, without scipy's slicing overhead.

Slicing `matrix[row]` builds a new sparse matrix (tens of microseconds); a request reads
a dozen rows, so it reads the CSR arrays directly instead, several rows in one pass.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def row_entries(matrix: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of one row (views, not copies); sorted if the matrix is."""
    start, stop = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:stop], matrix.data[start:stop]


def rows_entries(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of several rows at once: for each, its position in `rows`, column index and value."""
    starts = matrix.indptr[rows]
    lengths = matrix.indptr[rows + 1] - starts
    owners = np.repeat(np.arange(len(rows)), lengths)
    positions = np.arange(lengths.sum()) + np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return owners, matrix.indices[positions], matrix.data[positions]


def overlap(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in `first` and in `second` of the values both hold; `first` sorted and unique.

    One binary search of `second` in `first`: unlike `np.intersect1d` it neither
    concatenates nor sorts, and `second` may hold the entries of many rows at once.
    """
    if not len(first) or not len(second):
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    positions = np.searchsorted(first, second)
    positions[positions == len(first)] = 0
    found = first[positions] == second
    return positions[found], np.flatnonzero(found)


def sorted_csr(matrix: sp.spmatrix) -> sp.csr_matrix:
    """`matrix` as CSR with sorted column indices in every row, which `overlap` needs."""
    matrix = sp.csr_matrix(matrix)
    if not matrix.has_sorted_indices:
        matrix.sort_indices()
    return matrix
