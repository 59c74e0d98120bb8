"""The final pipeline step: signals composed with weights, and each movie's neighbours.

For query movie i and candidate j:

    score(i, j) = (a_i * cf(i, j) + (1 - a_i) * content_weight * content(i, j) + popularity_weight * prior(j))
                  * (1 + genre_boost * [i and j share a genre]) * (1 + title_boost * title(i, j))
    cf(i, j)    = collaborative(i, j) + session_weight * session(i, j)      (each row scaled to max 1)
    a_i = n_i / (n_i + blend_shrinkage)          (n_i: people who liked i in the training data)

so a movie nobody rated yet (a new catalogue entry) is answered by content alone, and the
trust in collaborative evidence grows smoothly with the evidence. The genre boost makes lists
look like the movie asked about where evidence ranks two movies about equally, which people
judge lists by. title(i, j) is the cosine of the two titles' own TF-IDF (title words only, a
vectoriser of their own): a film's sequels and its namesakes share their rare title words,
and in the content signal those words are a few among an overview's many, which the
collaborative share outweighs wherever people liked the film. With blend_shrinkage = 0
every movie with at least one like is answered by collaborative similarity alone (pure
item-kNN or EASE); with content_weight = 0 and only popularity, it is the popularity
baseline. Each signal is its own estimator (`content`, `collaborative`, `session`,
`popularity`), cloned and fitted here the way `VotingRegressor` fits its estimators; a
signal left out (None) or weighted 0 is neither fitted nor computed.

Inference asks this step for what it needs, through its methods (`similar`, `text_scores`,
`terms_of`, `shared_terms`, `co_liked`) and the catalogue it was fitted on (`ids_`,
`titles_`, `genres_`, `years_`, `popularity_`), and reads nothing of the signals inside.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from movie_r.data.title_keys import normalise_title
from movie_r.progress import progress
from movie_r.recommenders.content import ContentSimilarity
from movie_r.recommenders.neighbours import (
    BlockRunner,
    BlockScores,
    RowMask,
    best_rows,
    product_top,
    top_k_from_blocks,
    top_k_from_sparse,
)
from movie_r.recommenders.shared_signals import SharedSignals
from movie_r.recommenders.sparse_rows import overlap, row_entries, rows_entries, sorted_csr

TermWeights = tuple[np.ndarray, np.ndarray]  # sorted term indices of a TF-IDF row, and their weights


class Blend(BaseEstimator):
    """Composes the signals (module doc) and keeps each movie's top `n_neighbors`."""

    genre_boost = 0.0  # what a version saved before the parameter existed answers with
    title_boost = 0.0  # likewise

    def __init__(
        self,
        content: BaseEstimator | None = None,
        collaborative: BaseEstimator | None = None,
        session: BaseEstimator | None = None,
        popularity: BaseEstimator | None = None,
        content_weight: float = 1.0,
        session_weight: float = 0.0,
        popularity_weight: float = 0.0,
        blend_shrinkage: float = 0.0,
        genre_boost: float = 0.0,
        title_boost: float = 0.0,
        n_neighbors: int = 100,
        block_memory_mb: int = 256,
        candidates: int = 400,
    ):
        self.content = content
        self.collaborative = collaborative
        self.session = session
        self.popularity = popularity
        self.content_weight = content_weight
        self.session_weight = session_weight
        self.popularity_weight = popularity_weight
        self.blend_shrinkage = blend_shrinkage
        self.genre_boost = genre_boost
        self.title_boost = title_boost
        self.n_neighbors = n_neighbors
        self.block_memory_mb = block_memory_mb
        self.candidates = candidates

    def fit(
        self,
        X: sp.spmatrix,
        y: object = None,
        catalog: pd.DataFrame | None = None,
        interactions: pd.DataFrame | None = None,
        neighbours_of: np.ndarray | None = None,
        shared: SharedSignals | None = None,
        runner: BlockRunner | None = None,
    ) -> Blend:
        return self.fit_signals(X, catalog, interactions, shared).fit_neighbours(neighbours_of, runner)

    def fit_signals(
        self, X: sp.spmatrix, catalog: pd.DataFrame | None, interactions: pd.DataFrame | None, shared: SharedSignals | None = None
    ) -> Blend:
        """Fit's first stage: each signal on the evidence (the second ranks every movie's neighbours).

        `shared` hands on the evidence and signals other blends already fitted on the same
        matrix and ratings with the same parameters (`SharedSignals`).
        """
        if catalog is None or len(catalog) != X.shape[0]:
            raise ValueError("fit needs the catalogue frame the matrix rows were built from")
        self._remember_catalog(catalog)
        # a content-only blend knows nobody: its reasons never cite likes it did not learn from
        learns_from_ratings = any(s is not None for s in (self.collaborative, self.session, self.popularity))
        ratings = interactions if learns_from_ratings else None
        shared = shared or SharedSignals()
        evidence = shared.evidence(catalog, ratings)
        # content is always fitted: inference explains answers and matches free text with its terms
        wanted = {
            "content_": self.content if self.content is not None else ContentSimilarity(),
            "collaborative_": self.collaborative,
            "session_": self.session if self.collaborative is not None and self.session_weight else None,
            "popularity_model_": self.popularity if self.popularity_weight else None,
        }
        for name in progress(list(wanted), total=len(wanted), desc="signals"):
            setattr(self, name, shared.fitted(wanted[name], X, evidence))
        self.postings_ = self.item_matrix_.T.tocsr()
        self.positives_ = evidence.positives
        counts = evidence.like_counts
        self.interaction_counts_ = counts.astype(np.int32)
        if self.blend_shrinkage > 0:
            self.cf_trust_ = counts / (counts + self.blend_shrinkage)
        else:
            self.cf_trust_ = (counts > 0).astype(np.float32)
        return self

    def fit_neighbours(self, movie_ids: np.ndarray | None = None, runner: BlockRunner | None = None) -> Blend:
        """Fit's second stage: each movie's `n_neighbors` best by the blended score.

        With `movie_ids` (and candidates), only those movies' lists are ranked and the others
        left empty, which `similar` answers by scoring every movie on demand: tuning scores a
        grid point on its validation queries' few thousand movies, not the whole catalogue.
        The dense path ranks every movie. `runner` ranks the blocks of movies: in this process
        by default, on a cluster with the Spark engine (`movie_r.engines`), the same code.
        """
        check_is_fitted(self, "cf_trust_")
        if self.candidates:
            rows = None if movie_ids is None else np.flatnonzero(np.isin(self.ids_, movie_ids))
            self.neighbors_, self.similarities_ = top_k_from_sparse(
                len(self.ids_), self._candidate_blocks(), self.n_neighbors, self.block_memory_mb, rows, runner
            )
        else:
            self.neighbors_, self.similarities_ = top_k_from_blocks(
                len(self.ids_), self._blocks(), self.n_neighbors, self.block_memory_mb, runner
            )
        return self

    @property
    def item_matrix_(self) -> sp.csr_matrix:
        """The movies' L2-normalised TF-IDF rows: the terms answers are explained by."""
        return self.content_.item_matrix_

    # What inference asks of a fitted blend.

    def similar(self, row: int, k: int, allowed: RowMask | None = None, novelty: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Up to `k` movies like catalogue row `row` that `allowed` lets through, best first, and their scores.

        The precomputed neighbours answer unless filters reject too many of them; then every
        movie is scored for this one row. With `novelty` > 0 every movie is scored too, as
        (1 - novelty) * the blend's score (scaled to max 1) + novelty * content similarity:
        likeness in place of what people liked, which favours popular movies.
        """
        check_is_fitted(self, "neighbors_")
        if novelty > 0:
            blended = self._blocks()(row, row + 1)
            blended[0, row] = 0.0  # scaled to the best other movie, not to itself
            every = _row_scaled(blended)[0] * (1.0 - novelty) + novelty * self.content_.block_scores()(row, row + 1)[0]
            every[row] = -np.inf
            return best_rows(every, k, allowed)
        rows, scores = self.neighbours(row)
        if allowed is not None:
            keep = allowed(rows)
            rows, scores = rows[keep], scores[keep]
        rows, scores = rows[:k], scores[:k]
        if len(rows) >= k:
            return rows, scores
        every = self._blocks()(row, row + 1)[0]
        every[row] = -np.inf
        return best_rows(every, k, allowed)

    def neighbours(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Row `row`'s precomputed neighbours with a positive score, best first, and their scores."""
        check_is_fitted(self, "neighbors_")
        rows, scores = self.neighbors_[row], self.similarities_[row]
        keep = scores > 0
        return rows[keep], scores[keep]

    def neighbour_lists(self, rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The precomputed neighbours of several rows at once, one row each, and their scores
        (0 or less: no entry): what a history's answer combines. Unchecked: a request's path."""
        return self.neighbors_[rows], self.similarities_[rows]

    def text_scores(self, terms: TermWeights) -> np.ndarray:
        """Cosine similarity of a query's TF-IDF terms to every movie, from the postings of those terms only."""
        query_index, query_weight = terms
        owners, rows, weights = rows_entries(self._postings(), query_index)
        return np.bincount(rows, weights=weights * query_weight[owners], minlength=len(self.ids_))

    def terms_of(self, row: int) -> TermWeights:
        """The TF-IDF terms of one movie and their weights."""
        return row_entries(self.item_matrix_, row)

    def shared_terms(self, rows: np.ndarray, terms: TermWeights) -> list[np.ndarray]:
        """For each of `rows`, the terms it shares with `terms`, strongest contribution first.

        All rows are matched in one vectorised pass; per-row numpy calls were most of an
        answer's time.
        """
        query_index, query_weight = terms
        owners, found, weights = rows_entries(self.item_matrix_, rows)
        in_query, shared = overlap(query_index, found)
        owners = owners[shared]
        order = np.lexsort((-(query_weight[in_query] * weights[shared]), owners))
        ordered = found[shared][order]
        bounds = np.searchsorted(owners[order], np.arange(len(rows) + 1)).tolist()
        return [ordered[bounds[i] : bounds[i + 1]] for i in range(len(rows))]

    def co_liked(self, row: int, others: np.ndarray) -> np.ndarray:
        """How many people liked both `row` and each of `others` in the training data."""
        check_is_fitted(self, "positives_")
        owners, users, _ = rows_entries(self.positives_, others)
        _, shared = overlap(row_entries(self.positives_, row)[0], users)
        return np.bincount(owners[shared], minlength=len(others))

    def _postings(self) -> sp.csr_matrix:
        """Term -> movies holding it. Saved with the model since the artifact is memory-mapped:
        built by each worker, it was each worker's own copy. A version saved before that
        builds it on first use (a race builds it twice, harmlessly)."""
        postings = self.__dict__.get("postings_")
        if postings is None:
            postings = self.__dict__.get("_postings_cache")
        if postings is None:
            postings = self._postings_cache = self.item_matrix_.T.tocsr()
        return postings

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_postings_cache", None)  # derived; not worth its bytes in the artifact
        return state

    def _remember_catalog(self, catalog: pd.DataFrame) -> None:
        """What inference needs to describe and filter movies, in row order."""
        self.ids_ = catalog["id"].to_numpy(dtype=np.int64)
        self.titles_ = catalog["title"].tolist()
        self.genres_ = shared_genre_sets(catalog["genres"])
        self.genre_bits_ = genre_bits(self.genres_)
        self.__dict__.pop("title_matrix_", None)  # a refit on another catalogue builds its own
        self.__dict__.pop("title_postings_", None)
        if self.title_boost:  # only then: a model without the boost saves no title matrix
            self._titles()
        self.years_ = catalog["year"].to_numpy(dtype=np.float64)
        self.popularity_ = catalog["popularity"].to_numpy(dtype=np.float64)

    def _blocks(self) -> BlockScores:
        check_is_fitted(self, "content_")
        n_items = len(self.ids_)
        content = self.content_.block_scores() if self.content_weight else None
        collaborative = self.collaborative_.block_scores() if self.collaborative_ is not None else None
        session = self.session_.block_scores() if self.session_ is not None else None
        prior = self.popularity_model_.block_scores() if self.popularity_model_ is not None else None
        titles, postings = self._titles() if self.title_boost else (None, None)

        def scores(start: int, stop: int) -> np.ndarray:
            trust = self.cf_trust_[start:stop, None] if collaborative is not None else 0.0
            if content is not None:
                block = content(start, stop) * ((1.0 - trust) * self.content_weight)
            else:
                block = np.zeros((stop - start, n_items), dtype=np.float32)
            if collaborative is not None:
                evidence = _row_scaled(collaborative(start, stop))
                if session is not None:
                    evidence += self.session_weight * _row_scaled(session(start, stop))
                block += trust * evidence
            if prior is not None:
                block += self.popularity_weight * prior(start, stop)
            if self.genre_boost:
                block *= 1.0 + self.genre_boost * self._share_genre(np.arange(start, stop)[:, None], np.arange(n_items)[None, :])
            if titles is not None:
                block *= 1.0 + self.title_boost * (titles[start:stop] @ postings).toarray()
            return block.astype(np.float32, copy=False)

        return scores

    def _candidate_blocks(self) -> Callable[[np.ndarray], sp.csr_matrix]:
        """The blended scores of each row's candidates only, for the sparse neighbour search.

        Candidates: the `candidates` best of content and prior together, found by one sparse
        product (each TF-IDF row weighted by its content share, one more column holding the
        prior, so the selection during the product ranks by the blend's own non-collaborative
        part), and the `candidates` best of each collaborative signal. Each candidate's score
        is exact but for a collaborative signal where it is not among that signal's best: it
        counts 0 there. With a title boost, the `candidates` movies with the most alike titles
        are candidates too (a popular film's sequels are rarely among the best of content
        weighted by its small content share), and a pair outside them counts title likeness 0.
        With `candidates` >= the catalogue this equals the dense search.
        """
        check_is_fitted(self, "content_")
        n_items, n = len(self.ids_), self.candidates
        matrix = self.content_.item_matrix_
        collaborative = self.collaborative_.sparse_scores() if self.collaborative_ is not None else None
        session = self.session_.sparse_scores() if self.session_ is not None else None
        prior = self.popularity_model_.prior_ * self.popularity_weight if self.popularity_model_ is not None else None
        titles, title_postings = self._titles() if self.title_boost else (None, None)
        right = self._postings() if prior is None else sp.vstack([self._postings(), prior[None, :]]).tocsr()
        if collaborative is None and prior is None and not self.genre_boost and not self.title_boost:
            # content alone: the product's own best are the lists, the movie itself among them;
            # selecting more would only cost time, most of a content-only fit's
            n = min(n, self.n_neighbors + 1)
        # without a prior, the most liked movies make sure every row has n_neighbors candidates
        filler = np.argsort(-self.interaction_counts_, kind="stable")[: self.n_neighbors + 1] if prior is None else None

        def non_collaborative(block: np.ndarray, local: np.ndarray, columns: np.ndarray, share: np.ndarray) -> np.ndarray:
            """The content and prior part of the blend at (block's row `local`, column) pairs."""
            scores = (
                share[local] * self.content_.pair_scores(block[local], columns) if self.content_weight else np.zeros(len(local))
            )
            return scores + (prior[columns] if prior is not None else 0.0)

        def scores(block: np.ndarray) -> sp.csr_matrix:
            size = len(block)
            trust = self.cf_trust_[block] if collaborative is not None else np.zeros(size)
            share = (1.0 - trust) * self.content_weight
            left = sp.diags(share) @ matrix[block]
            if prior is not None:
                left = sp.hstack([left, np.ones((size, 1), dtype=np.float32)])
            base = product_top(left, right, n).tocoo()
            parts = [(base.row, base.col, base.data)]
            scored = [base.row.astype(np.int64) * n_items + base.col]  # entries whose non-collaborative part is in parts
            if collaborative is not None:
                signals = [_weighted(found := collaborative(block, n), trust * _row_scale(found))]
                if session is not None:
                    signals.append(_weighted(found := session(block, n), trust * self.session_weight * _row_scale(found)))
                rows, columns, values = _summed(*signals, width=n_items)
                fresh = _absent(rows * n_items + columns, scored[0])
                parts.append((rows, columns, values))
                parts.append((rows[fresh], columns[fresh], non_collaborative(block, rows[fresh], columns[fresh], share)))
                scored.append(rows[fresh] * n_items + columns[fresh])
            alike_keys = alike_values = np.empty(0)
            if titles is not None:
                alike = product_top(titles[block], title_postings, n).tocoo()
                alike_values = alike.data
                alike_keys = alike.row.astype(np.int64) * n_items + alike.col
                fresh = _absent(alike_keys, np.concatenate(scored))
                title_rows, title_columns = alike.row[fresh], alike.col[fresh]
                parts.append((title_rows, title_columns, non_collaborative(block, title_rows, title_columns, share)))
            if filler is not None:
                parts.append((np.repeat(np.arange(size), len(filler)), np.tile(filler, size), np.zeros(size * len(filler))))
            rows, columns, values = _summed(*parts, width=n_items)
            if self.genre_boost:
                values *= 1.0 + self.genre_boost * self._share_genre(block[rows], columns)
            if titles is not None:
                values *= 1.0 + self.title_boost * _looked_up(alike_keys, alike_values, rows * n_items + columns)
            indptr = np.searchsorted(rows, np.arange(size + 1))
            return sp.csr_matrix((values.astype(np.float32), columns, indptr), shape=(size, n_items))

        return scores

    def _titles(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The titles' TF-IDF rows and their postings (term -> movies), built on first use by a
        blend fitted without the boost and given one since."""
        if "title_matrix_" not in self.__dict__:
            self.title_matrix_, self.title_postings_ = _title_matrices(tuple(self.titles_))
        return self.title_matrix_, self.title_postings_

    def _share_genre(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Whether each (row, column) pair of movies shares a genre (arrays broadcast)."""
        bits = self.genre_bits_
        return (bits[rows] & bits[columns]) != 0


def shared_genre_sets(genres: Iterable[Iterable[str]]) -> list[tuple[str, ...]]:
    """Each movie's genres, movies with the same genres holding one tuple of shared strings.

    A catalogue has a few hundred distinct genre sets; pickle keeps shared objects shared,
    so each API worker unpickles those few hundred instead of a tuple and its strings per
    movie: memory every worker holds of its own, growing with the catalogue."""
    distinct: dict[tuple[str, ...], tuple[str, ...]] = {}
    return [distinct.setdefault(key := tuple(map(sys.intern, movie)), key) for movie in genres]


def title_matrix(titles: list[str]) -> sp.csr_matrix:
    """The L2-normalised TF-IDF of the titles' words alone (in `normalise_title` form, English
    stop words out): the cosine of two rows is how alike two titles are, rare shared words
    counting most. A catalogue whose titles hold no word gets an empty matrix."""
    vectoriser = TfidfVectorizer(stop_words="english", sublinear_tf=True, dtype=np.float32)
    try:
        matrix = vectoriser.fit_transform([normalise_title(title) for title in titles])
    except ValueError:  # empty vocabulary
        matrix = sp.csr_matrix((len(titles), 1), dtype=np.float32)
    return sorted_csr(matrix)


@functools.lru_cache(maxsize=2)
def _title_matrices(titles: tuple[str, ...]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """`title_matrix` and its postings, kept for the last catalogues: tuning fits dozens of
    blends on one catalogue, and normalising its titles is most of building the matrix. The
    matrices are shared and never written to."""
    matrix = title_matrix(list(titles))
    return matrix, matrix.T.tocsr()


def genre_bits(genres: list[tuple[str, ...]]) -> np.ndarray:
    """Each movie's genres as one bit each in a 64-bit word, so "shares a genre" is one AND.
    Past 64 genres two share a bit: rare pairs then count as sharing."""
    names = sorted({genre for movie in genres for genre in movie})
    bit = {name: np.uint64(1) << np.uint64(index % 64) for index, name in enumerate(names)}
    words = np.zeros(len(genres), dtype=np.uint64)
    for row, movie in enumerate(genres):
        for genre in movie:
            words[row] |= bit[genre]
    return words


def _row_scale(block: sp.csr_matrix) -> np.ndarray:
    """1 / each row's largest score, as `_row_scaled` divides; 0 where none is positive."""
    top = block.max(axis=1).toarray().ravel()
    return np.divide(1.0, top, out=np.zeros_like(top), where=top > 0)


def _summed(*parts: tuple[np.ndarray, np.ndarray, np.ndarray], width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column, value) entries with each (row, column) once, its values added, in row order."""
    rows, columns, values = (np.concatenate(field) for field in zip(*parts, strict=True))
    keys, where = np.unique(rows.astype(np.int64) * width + columns, return_inverse=True)
    return keys // width, keys % width, np.bincount(where, weights=values, minlength=len(keys))


def _absent(keys: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Whether each of `keys` is missing from `among`: `~np.isin` by one sort of `among` and a
    binary search, where isin sorts both arrays together (most of a block's blend time)."""
    if not len(among):
        return np.ones(len(keys), dtype=bool)
    among = np.sort(among)
    found = np.minimum(np.searchsorted(among, keys), len(among) - 1)
    return among[found] != keys


def _looked_up(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The value of each of `wanted` among (`keys`, `values`), 0 where it is absent."""
    if not len(keys):
        return np.zeros(len(wanted))
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    found = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[found] == wanted, values[found], 0.0)


def _weighted(block: sp.csr_matrix, row_weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sparse block's entries as (row, column, value * its row's weight)."""
    entries = block.tocoo()
    return entries.row, entries.col, entries.data * row_weight[entries.row]


def _row_scaled(block: np.ndarray) -> np.ndarray:
    """Each row divided by its largest value, so collaborative scores share content's 0..1 scale."""
    top = block.max(axis=1, keepdims=True)
    return np.divide(block, top, out=np.zeros_like(block), where=top > 0)
