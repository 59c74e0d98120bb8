"""Row reads straight from CSR arrays must agree with scipy's own slicing and numpy's set operations."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from movie_r.answering.inference import Recommender
from movie_r.recommenders.sparse_rows import overlap, row_entries, rows_entries, sorted_csr


def random_csr(seed: int = 0) -> sp.csr_matrix:
    return sorted_csr(sp.random(40, 30, density=0.2, format="csr", random_state=seed, dtype=np.float32))


def test_row_entries_are_the_rows_nonzeros() -> None:
    matrix = random_csr()
    for row in range(matrix.shape[0]):
        columns, values = row_entries(matrix, row)
        assert list(columns) == list(matrix[row].indices)
        assert np.array_equal(values, matrix[row].data)


def test_rows_entries_gathers_rows_in_the_order_asked_with_their_owner() -> None:
    matrix = random_csr(1)
    rows = np.array([7, 0, 7, 39, 12])
    owners, columns, values = rows_entries(matrix, rows)
    for position, row in enumerate(rows):
        mine = owners == position
        assert list(columns[mine]) == list(matrix[row].indices)
        assert np.array_equal(values[mine], matrix[row].data)
    assert len(owners) == sum(matrix[row].nnz for row in rows)


def test_overlap_matches_intersect1d_even_when_the_second_array_is_unsorted() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        first = np.unique(rng.integers(0, 60, 25))
        second = rng.integers(0, 60, 40)  # unsorted, with repeats: entries of several rows
        in_first, in_second = overlap(first, second)
        assert np.array_equal(first[in_first], second[in_second])
        assert sorted(in_second) == [i for i, value in enumerate(second) if value in set(first)]


def test_overlap_of_empty_arrays_is_empty() -> None:
    assert [len(part) for part in overlap(np.array([], dtype=int), np.array([1, 2]))] == [0, 0]
    assert [len(part) for part in overlap(np.array([1, 2]), np.array([], dtype=int))] == [0, 0]


def test_text_scores_from_postings_equal_the_full_product(small_recommender: Recommender) -> None:
    for text in ["space adventure with robots", "toy story", "a heist in paris"]:
        columns, values = small_recommender._query_vector(text)
        dense = np.zeros(small_recommender.model.item_matrix_.shape[1], dtype=np.float32)
        dense[columns] = values
        expected = small_recommender.model.item_matrix_ @ dense
        assert np.allclose(small_recommender.model.text_scores((columns, values)), expected, atol=1e-6)
        assert not math.isclose(float(expected.max()), 0.0)
