"""What a catalogue and its ratings tell every signal, computed once per fit and shared.

The blend builds one `Evidence` and hands it to each signal's `fit`, so the items x users
matrix of likes exists once, however many signals learn from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movie_r.recommenders.sparse_rows import sorted_csr

# Without ratings every signal still fits: its collaborative part then knows nobody.
NO_RATINGS = pd.DataFrame(
    {"user_id": pd.Series(dtype=str), "movie_id": pd.Series(dtype="int64"), "rating": pd.Series(dtype=float),
     "timestamp": pd.Series(dtype=float)}
)  # fmt: skip

POSITIVE_RATING = 4.0  # a rating at or above this means the user liked the movie


@dataclass(frozen=True)
class Evidence:
    """The catalogue's ids (row order), its popularity column, the ratings, and who liked what."""

    ids: np.ndarray
    catalog_popularity: np.ndarray
    interactions: pd.DataFrame
    positives: sp.csr_matrix  # items x users, 1 where a user rated the movie >= POSITIVE_RATING

    @classmethod
    def of(cls, catalog: pd.DataFrame, interactions: pd.DataFrame | None) -> Evidence:
        ids = catalog["id"].to_numpy(dtype=np.int64)
        ratings = interactions if interactions is not None else NO_RATINGS
        popularity = catalog["popularity"].to_numpy(dtype=np.float32).clip(0)
        return cls(ids, popularity, ratings, sorted_csr(positives_matrix(ratings, ids)))

    @property
    def like_counts(self) -> np.ndarray:
        """People who liked each movie."""
        return self.positives.getnnz(axis=1).astype(np.float32)


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


def log_share(counts: np.ndarray) -> np.ndarray:
    """`log(1 + n) / log(1 + max n)`: a prior in 0..1 that does not let a few blockbusters flatten the rest."""
    top = np.log1p(counts.max(initial=0.0))
    return (np.log1p(counts) / top if top > 0 else np.zeros_like(counts)).astype(np.float32)
