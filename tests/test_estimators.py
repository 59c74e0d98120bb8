"""One scikit-learn estimator per signal, composed by the blend: the estimator contract, per kind."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from movie_r.answering.inference import Recommender
from movie_r.data.loading import load_catalog
from movie_r.errors import ArtifactError
from movie_r.recommenders.blend import Blend
from movie_r.recommenders.evidence import Evidence
from movie_r.recommenders.kinds import KINDS
from movie_r.recommenders.pipeline import SIGNALS, build_pipeline, fit_pipeline, restore_params
from movie_r.storage.registry import Registry, new_version_id

from .test_models import clustered_ratings, random_catalog


@pytest.mark.parametrize("name", list(SIGNALS))
def test_each_signal_clones_fits_to_self_and_refuses_use_unfitted(tmp_path: Path, name: str) -> None:
    estimator = SIGNALS[name]()
    assert clone(estimator).get_params() == estimator.get_params()
    with pytest.raises(NotFittedError):
        estimator.block_scores()
    catalog = load_catalog(random_catalog(tmp_path)).movies
    matrix = build_pipeline("tfidf")[:-1].fit_transform(catalog)
    fitted = estimator.fit(matrix, evidence=Evidence.of(catalog, clustered_ratings()))
    assert fitted is estimator
    assert [a for a in vars(fitted) if a.endswith("_")], "learned attributes end with _"
    block = fitted.block_scores()(0, 3)
    assert block.shape == (3, len(catalog)) and np.isfinite(block).all()


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_clones_and_answers_the_same_after_save_and_load(tmp_path: Path, kind: str) -> None:
    pipeline = build_pipeline(kind, {"recommender__n_neighbors": 10})
    assert clone(pipeline).get_params().keys() == pipeline.get_params().keys()
    assert repr(clone(pipeline[-1]).get_params()) == repr(pipeline[-1].get_params())
    catalog = load_catalog(random_catalog(tmp_path))
    fitted = fit_pipeline(pipeline, catalog.movies, clustered_ratings())
    registry = Registry(tmp_path / "models")
    saved = registry.save(fitted, {"version": new_version_id(), "kind": kind})
    loaded = registry.get(saved.version).load()
    before, after = Recommender(fitted), Recommender(loaded)
    for movie_id in catalog.movies["id"].head(5):
        first = before.recommend(movie_id=int(movie_id), k=5)
        second = after.recommend(movie_id=int(movie_id), k=5)
        assert [(r.id, r.score, r.reasons) for r in first.recommendations] == [
            (r.id, r.score, r.reasons) for r in second.recommendations
        ]


def test_a_signal_weighted_zero_is_neither_fitted_nor_computed(tmp_path: Path) -> None:
    catalog = load_catalog(random_catalog(tmp_path))
    popularity = fit_pipeline(build_pipeline("popularity"), catalog.movies, clustered_ratings())[-1]
    assert popularity.collaborative_ is None and popularity.session_ is None
    blend = fit_pipeline(build_pipeline("hybrid", {"recommender__session_weight": 0.0}), catalog.movies, clustered_ratings())[-1]
    assert blend.session_ is None


OLD_MANIFEST_PARAMS = {  # as manifests stored them when the blend switched signals by strings
    "hybrid": {
        "recommender__collaborative": "itemknn", "recommender__knn_shrinkage": 50.0, "recommender__blend_shrinkage": 10.0,
        "recommender__sequence_weight": 0.5, "recommender__popularity_weight": 0.2, "recommender__n_neighbors": 10,
    },
    "ease": {"recommender__collaborative": "ease", "recommender__ease_l2": 200.0, "recommender__n_neighbors": 10},
    "popularity": {
        "recommender__collaborative": "none", "recommender__content_weight": 0.0, "recommender__popularity_weight": 1.0,
        "recommender__n_neighbors": 10,
    },
}  # fmt: skip


PRESETS_THEN = {  # the hybrid preset when those manifests were written, in today's names
    "hybrid": {
        "recommender__collaborative": "itemknn", "recommender__collaborative__shrinkage": 50.0,
        "recommender__session": "session", "recommender__session__shrinkage": 50.0, "recommender__session_weight": 0.5,
        "recommender__popularity_weight": 0.2,
    },
}  # fmt: skip


@pytest.mark.parametrize("kind", list(OLD_MANIFEST_PARAMS))
def test_parameters_of_older_manifests_build_the_same_model(tmp_path: Path, kind: str) -> None:
    catalog, ratings = load_catalog(random_catalog(tmp_path)).movies, clustered_ratings()
    old = fit_pipeline(build_pipeline(kind, restore_params(OLD_MANIFEST_PARAMS[kind])), catalog, ratings)[-1]
    today = fit_pipeline(build_pipeline(kind, {**PRESETS_THEN.get(kind, {}), "recommender__n_neighbors": 10}), catalog, ratings)[-1]
    assert np.array_equal(old.neighbors_, today.neighbors_) and np.array_equal(old.similarities_, today.similarities_)


def test_a_pipeline_saved_with_classes_this_version_lacks_is_refused_with_retrain(tmp_path: Path, monkeypatch) -> None:
    """A version saved by an older movie_r, signed and intact, names a class that is gone."""
    old_module = types.ModuleType("movie_r.recommenders.hybrid")  # where BlendedRecommender lived

    class BlendedRecommender(Blend):
        pass

    BlendedRecommender.__module__ = old_module.__name__
    BlendedRecommender.__qualname__ = "BlendedRecommender"
    old_module.BlendedRecommender = BlendedRecommender
    monkeypatch.setitem(sys.modules, old_module.__name__, old_module)
    catalog = load_catalog(random_catalog(tmp_path))
    pipeline = fit_pipeline(build_pipeline("tfidf", {"recommender__n_neighbors": 5}), catalog.movies)
    pipeline.steps[-1] = ("recommender", BlendedRecommender(**pipeline[-1].get_params()))
    registry = Registry(tmp_path / "models")
    saved = registry.save(pipeline, {"version": new_version_id(), "kind": "tfidf"})
    monkeypatch.delitem(sys.modules, old_module.__name__)
    with pytest.raises(ArtifactError, match=r"saved by an older movie_r .*retrain"):
        registry.get(saved.version).load()


@pytest.mark.parametrize("kind", list(KINDS))
def test_similar_is_the_best_of_every_movie_scored_with_or_without_a_mask(tmp_path: Path, kind: str) -> None:
    """The blend's one ranking method: its precomputed lists and its fallback agree with brute force."""
    catalog = load_catalog(random_catalog(tmp_path)).movies
    pipeline = fit_pipeline(build_pipeline(kind, {"recommender__n_neighbors": 8}), catalog, clustered_ratings())
    blend = pipeline[-1]
    even = lambda rows: rows % 2 == 0  # noqa: E731 - a mask that rejects half of every list
    for row in range(0, len(catalog), 7):
        every = blend._blocks()(row, row + 1)[0]
        every[row] = -np.inf
        for allowed, k in ((None, 5), (even, 5), (even, 20)):
            candidates = np.flatnonzero((every > 0) & (allowed(np.arange(len(every))) if allowed else True))
            expected = candidates[np.argsort(-every[candidates], kind="stable")][:k]
            rows, scores = blend.similar(row, k, allowed)
            np.testing.assert_allclose(scores, every[expected], rtol=1e-5)
            np.testing.assert_allclose(every[rows], scores, rtol=1e-5)  # ties may pick other rows of the same score
            assert len(set(rows.tolist())) == len(rows) and (allowed is None or allowed(rows).all())


BOOSTED = [
    ("hybrid", {"recommender__genre_boost": 0.3}),
    ("hybrid", {"recommender__title_boost": 1.0}),
    ("hybrid", {"recommender__genre_boost": 0.3, "recommender__title_boost": 2.0}),
    ("tfidf", {"recommender__title_boost": 1.0}),
]


@pytest.mark.parametrize(("kind", "extra"), [(kind, {}) for kind in KINDS] + BOOSTED)
def test_the_sparse_neighbour_search_finds_the_dense_searchs_top_k(tmp_path: Path, kind: str, extra: dict) -> None:
    """With candidates covering the catalogue the sparse path is the dense one (up to the order
    of equal scores); with fewer, every score it keeps is still the movie's true blended score."""
    catalog, ratings = sequel_catalog(tmp_path)
    fitted = {
        candidates: fit_pipeline(
            build_pipeline(kind, {"recommender__n_neighbors": 12, "recommender__candidates": candidates, **extra}), catalog, ratings
        )[-1]
        for candidates in (0, len(catalog), 6)
    }
    dense, sparse, few = fitted[0], fitted[len(catalog)], fitted[6]
    every = dense._blocks()(0, len(catalog))
    np.fill_diagonal(every, -np.inf)
    for row in range(len(catalog)):
        positive = dense.similarities_[row] > 0
        np.testing.assert_allclose(sparse.similarities_[row][positive], dense.similarities_[row][positive], rtol=1e-5, atol=1e-7)
        kept = sparse.similarities_[row] > 0
        assert kept.sum() == positive.sum()
        np.testing.assert_allclose(every[row, sparse.neighbors_[row][kept]], sparse.similarities_[row][kept], rtol=1e-5)
        # ties aside, the same movies: any dense neighbour missing from the sparse list scores as the last kept one
        missing = set(dense.neighbors_[row][positive].tolist()) - set(sparse.neighbors_[row][kept].tolist())
        assert all(np.isclose(every[row, m], sparse.similarities_[row][kept].min(), rtol=1e-5) for m in missing)
        shown = few.similarities_[row] > 0
        assert row not in few.neighbors_[row][shown]
        # a signal's score outside its best counts 0: never more than the true blended score
        np.testing.assert_array_less(few.similarities_[row][shown], every[row, few.neighbors_[row][shown]] + 1e-5)


@pytest.mark.parametrize("kind", list(KINDS))
def test_neighbours_of_some_movies_are_those_of_the_full_fit_and_the_rest_answer_on_demand(tmp_path: Path, kind: str) -> None:
    """Tuning ranks only its queries' movies; their lists must be the full fit's, exactly."""
    catalog = load_catalog(random_catalog(tmp_path)).movies
    ratings = clustered_ratings()
    chosen = catalog["id"].to_numpy()[[3, 0, 17, 40, 41]]  # unordered, and one block holds them all
    full, some = (
        fit_pipeline(build_pipeline(kind, {"recommender__n_neighbors": 12}), catalog, ratings, neighbours_of=ids)
        for ids in (None, chosen)
    )
    rows = np.flatnonzero(catalog["id"].isin(chosen))
    np.testing.assert_array_equal(some[-1].neighbors_[rows], full[-1].neighbors_[rows])
    np.testing.assert_array_equal(some[-1].similarities_[rows], full[-1].similarities_[rows])
    others = np.setdiff1d(np.arange(len(catalog)), rows)
    assert (some[-1].similarities_[others] == 0).all()
    # a movie left out still answers, every movie scored on demand
    answer = Recommender(some).recommend(movie_id=int(catalog["id"].iloc[others[0]]), k=5).recommendations
    assert answer and all(r.score > 0 for r in answer)


def test_the_genre_boost_multiplies_the_score_of_movies_sharing_a_genre_and_only_theirs(tmp_path: Path) -> None:
    catalog = load_catalog(random_catalog(tmp_path)).movies
    plain, boosted = (
        fit_pipeline(build_pipeline("hybrid", {"recommender__genre_boost": boost}), catalog, clustered_ratings())[-1]
        for boost in (0.0, 0.5)
    )
    before, after = plain._blocks()(0, len(catalog)), boosted._blocks()(0, len(catalog))
    genres = [set(movie) for movie in catalog["genres"]]
    share = np.array([[bool(a & b) for b in genres] for a in genres])
    assert share.any() and not share.all()
    np.testing.assert_allclose(after[share], before[share] * 1.5, rtol=1e-6)
    np.testing.assert_array_equal(after[~share], before[~share])


def sequel_catalog(tmp_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The random catalogue with sequels of its first movies ("<title> 2", "<title>: Return"),
    each liked by a few of the people who liked the first, after it."""
    frame = pd.read_csv(random_catalog(tmp_path))
    sequels = [
        (100 + 2 * i + j, f"{movie.title}{suffix}", movie.genre, "a story all of its own", movie.year + 3, 1.0)
        for i, movie in enumerate(frame.head(4).itertuples())
        for j, suffix in enumerate((" 2", ": Return"))
    ]
    catalog = load_catalog(random_catalog(tmp_path, sequels)).movies
    ratings = clustered_ratings()
    liked = [
        (user, sequel[0], 5.0, 100.0)
        for sequel, original in zip(sequels, np.repeat(frame["id"].head(4).to_numpy(), 2), strict=True)
        for user in ratings.loc[ratings["movie_id"] == original, "user_id"].unique()[:3]
    ]
    return catalog, pd.concat([ratings, pd.DataFrame(liked, columns=ratings.columns)], ignore_index=True)


def test_the_title_boost_multiplies_each_score_by_the_titles_likeness_and_brings_sequels_first(tmp_path: Path) -> None:
    catalog, ratings = sequel_catalog(tmp_path)
    plain, boosted = (
        fit_pipeline(build_pipeline("hybrid", {"recommender__title_boost": boost}), catalog, ratings)[-1] for boost in (0.0, 2.0)
    )
    before, after = plain._blocks()(0, len(catalog)), boosted._blocks()(0, len(catalog))
    likeness = (boosted.title_matrix_ @ boosted.title_matrix_.T).toarray()
    np.testing.assert_allclose(after, before * (1.0 + 2.0 * likeness), rtol=1e-5)
    assert "title_matrix_" not in plain.__dict__  # no boost, no title matrix saved
    sequels = np.flatnonzero(catalog["id"] >= 100)
    for original in range(4):
        own = sequels[2 * original : 2 * original + 2]
        np.testing.assert_allclose(likeness[original, own[0]], 1.0, rtol=1e-5)  # a sequel number is no word
        assert 0 < likeness[original, own[1]] < 1
        assert not set(own) <= set(plain.neighbors_[original][:2].tolist())
        namesakes = np.flatnonzero(likeness[original] > 0.99)  # the catalogue repeats a title or two
        assert set(own) <= set(boosted.neighbors_[original][: len(namesakes) + 1].tolist())


def test_the_title_boost_finds_sequels_among_few_candidates(tmp_path: Path) -> None:
    """The titles' own product adds candidates: with the content and collaborative candidates too
    few to hold them all, the sequels are still ranked."""
    catalog, ratings = sequel_catalog(tmp_path)
    params = {"recommender__title_boost": 2.0, "recommender__n_neighbors": 10}
    few = fit_pipeline(build_pipeline("hybrid", {**params, "recommender__candidates": 4}), catalog, ratings)[-1]
    every = few._blocks()(0, len(catalog))
    sequels = np.flatnonzero(catalog["id"] >= 100)
    for original in range(4):
        own = sequels[2 * original : 2 * original + 2]
        shown = few.similarities_[original] > 0
        kept = few.neighbors_[original][shown]
        assert set(own) <= set(kept.tolist())
        # a collaborative score outside that signal's few best counts 0: never above the true score
        np.testing.assert_array_less(few.similarities_[original][shown], every[original, kept] + 1e-5)


def test_no_title_boost_scores_as_a_blend_without_the_parameter(tmp_path: Path) -> None:
    """title_boost 0 (the default) is today's blend exactly, and a version saved before the
    parameter existed answers as it did; given a boost after fitting, it builds its titles."""
    catalog, ratings = sequel_catalog(tmp_path)
    for candidates in (0, 400):
        params = {"recommender__candidates": candidates}
        model = fit_pipeline(build_pipeline("hybrid", params), catalog, ratings)[-1]
        zero = fit_pipeline(build_pipeline("hybrid", {**params, "recommender__title_boost": 0.0}), catalog, ratings)[-1]
        np.testing.assert_array_equal(zero.similarities_, model.similarities_)
        np.testing.assert_array_equal(zero.neighbors_, model.neighbors_)
        before = model._blocks()(0, len(catalog))
        del model.__dict__["title_boost"]
        assert model.get_params()["title_boost"] == 0.0
        np.testing.assert_array_equal(model._blocks()(0, len(catalog)), before)
        model.set_params(title_boost=1.0)
        assert (model._blocks()(0, len(catalog)) >= before).all() and "title_matrix_" in model.__dict__


def test_a_version_saved_before_the_genre_boost_answers_without_it(tmp_path: Path) -> None:
    """Older artifacts unpickle without the parameter or the genre bits: they answer as they did."""
    catalog = load_catalog(random_catalog(tmp_path)).movies
    model = fit_pipeline(build_pipeline("hybrid"), catalog, clustered_ratings())[-1]
    del model.__dict__["genre_boost"], model.__dict__["genre_bits_"]
    assert model.get_params()["genre_boost"] == 0.0
    rows, scores = model.similar(0, 5, allowed=lambda rows: rows % 7 == 0)  # filters past the lists: every movie scored
    assert len(rows) and (rows % 7 == 0).all() and (scores > 0).all()


def test_row_top_keeps_each_rows_largest_entries() -> None:
    from scipy import sparse as sp

    from movie_r.recommenders.neighbours import product_top, row_top

    block = sp.random(40, 60, density=0.3, format="csr", random_state=1, dtype=np.float32)
    top = row_top(block, 5).toarray()
    full = block.toarray()
    for row in range(40):
        expected = np.sort(full[row][full[row] > 0])[::-1][:5]
        np.testing.assert_allclose(np.sort(top[row][top[row] > 0])[::-1], expected)
    left = sp.random(30, 20, density=0.2, format="csr", random_state=2, dtype=np.float32)
    right = sp.random(20, 50, density=0.2, format="csr", random_state=3, dtype=np.float32)
    product = (left @ right).toarray()
    np.testing.assert_allclose(product_top(left, right, None).toarray(), product, rtol=1e-5)
    best = product_top(left, right, 3).toarray()
    for row in range(30):
        np.testing.assert_allclose(np.sort(best[row])[::-1][:3], np.sort(product[row])[::-1][:3], rtol=1e-5)


@pytest.mark.parametrize("kind", ["rp3beta", "nextitem", "hybrid"])
def test_the_new_kinds_answer_a_movie_nobody_rated(tmp_path: Path, kind: str) -> None:
    newcomer = (999, "Zyxx Returns", "Sci-Fi|Horror", "zyxx wakes again in the deep", 2030, 0.0)
    catalog = load_catalog(random_catalog(tmp_path, [newcomer])).movies
    ratings = clustered_ratings()
    unrated = 999
    recommender = Recommender(fit_pipeline(build_pipeline(kind, {"recommender__n_neighbors": 10}), catalog, ratings))
    answer = recommender.recommend(movie_id=unrated, k=5)
    assert len(answer.recommendations) == 5 and all(item.score > 0 for item in answer.recommendations)


def test_next_items_count_only_what_came_after() -> None:
    """Directed: a pair liked in order a -> b counts for a's row only; the symmetric signal counts both."""
    from movie_r.recommenders.session import sequence_matrix

    ratings = pd.DataFrame({"user_id": ["u"] * 3, "movie_id": [10, 20, 30], "rating": [5.0] * 3, "timestamp": [1.0, 2.0, 3.0]})
    ids = np.array([10, 20, 30])
    forward = sequence_matrix(ratings, ids, window=2, directed=True, decay=0.5).toarray()
    assert forward.tolist() == [[0, 1, 0.5], [0, 0, 1], [0, 0, 0]]
    both = sequence_matrix(ratings, ids, window=2).toarray()
    assert (both == both.T).all() and both[0, 2] == 1.0


def test_novelty_trades_the_models_ranking_for_content_likeness(tmp_path: Path) -> None:
    catalog = load_catalog(random_catalog(tmp_path)).movies
    blend = fit_pipeline(build_pipeline("hybrid", {"recommender__n_neighbors": 10}), catalog, clustered_ratings())[-1]
    content = blend.content_.block_scores()
    for row in range(0, len(catalog), 9):
        plain = blend.similar(row, 5)[0]
        likeness = blend.similar(row, 5, novelty=1.0)[0]
        every = content(row, row + 1)[0]
        every[row] = -np.inf
        assert sorted(every[likeness].round(5).tolist()) == sorted(np.sort(every)[-5:].round(5).tolist())
        assert blend.similar(row, 5, novelty=0.0)[0].tolist() == plain.tolist()


def test_movies_with_the_same_genres_share_one_tuple_once_saved_and_loaded(tmp_path: Path) -> None:
    """A worker unpickles one tuple (and one string per genre) per distinct genre set, not per movie."""
    catalog = load_catalog(random_catalog(tmp_path)).movies
    pipeline = fit_pipeline(build_pipeline("tfidf", {"recommender__n_neighbors": 5}), catalog)
    registry = Registry(tmp_path / "models")
    genres = registry.get(registry.save(pipeline, {"version": new_version_id(), "kind": "tfidf"}).version).load()[-1].genres_
    assert genres == [tuple(movie) for movie in catalog["genres"]]
    assert len({id(movie) for movie in genres}) == len(set(genres)) < len(genres)
    assert len({id(genre) for movie in genres for genre in movie}) == len({genre for movie in genres for genre in movie})


def test_the_fast_orderings_are_the_ones_numpy_gives() -> None:
    """`best_first` and `_absent` replace lexsort and isin in every fit: same order, same answer,
    ties, negative scores and -0.0 included, so no model changes with them."""
    from movie_r.recommenders.blend import _absent
    from movie_r.recommenders.neighbours import best_first

    rng = np.random.default_rng(7)
    owners = np.sort(rng.integers(0, 300, 20_000))
    values = rng.standard_normal(20_000).astype(np.float32)
    values[::5], values[::11], values[::13] = 0.5, 0.0, -0.0
    assert (best_first(values, owners) == np.lexsort((-values, owners))).all()
    keys, among = rng.integers(0, 5_000, 3_000), rng.integers(0, 5_000, 2_000)
    assert (_absent(keys, among) == ~np.isin(keys, among)).all()
    assert _absent(keys, among[:0]).all()
