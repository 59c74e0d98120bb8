"""Every model kind: fits, recommends, survives pipeline.joblib, and the hybrid covers cold items."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movie_r.answering.inference import Recommender
from movie_r.data.loading import load_catalog
from movie_r.recommenders.kinds import KINDS
from movie_r.recommenders.pipeline import build_pipeline, fit_pipeline
from movie_r.storage.registry import Registry, new_version_id

from .conftest import write_csv

N_MOVIES, N_CLUSTERS = 60, 4


def clustered_ratings(seed: int = 0, users: int = 120, per_user: int = 8) -> pd.DataFrame:
    """People like movies of one taste cluster (movie id modulo 4), in time order; content says nothing of it."""
    rng = random.Random(seed)
    rows = []
    for user in range(users):
        cluster = [m for m in range(1, N_MOVIES + 1) if m % N_CLUSTERS == user % N_CLUSTERS]
        for t, movie in enumerate(rng.sample(cluster, per_user)):
            rows.append((f"u{user}", movie, 5.0, float(t)))
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def random_catalog(tmp_path: Path, extra: list[tuple] = ()) -> Path:
    from tests.synthetic import synthetic_catalog, write_catalog_csv

    movies = synthetic_catalog(N_MOVIES, seed=7)
    path = write_catalog_csv(movies, tmp_path / "random.csv")
    if extra:
        frame = pd.read_csv(path)
        frame = pd.concat([frame, pd.DataFrame(extra, columns=frame.columns)], ignore_index=True)
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_fits_recommends_and_reloads_from_pipeline_joblib(tmp_path: Path, kind: str) -> None:
    catalog = load_catalog(random_catalog(tmp_path))
    pipeline = fit_pipeline(build_pipeline(kind, {"recommender__n_neighbors": 10}), catalog.movies, clustered_ratings())
    registry = Registry(tmp_path / "models")
    saved = registry.save(pipeline, {"version": new_version_id(), "kind": kind})
    reloaded = Recommender(registry.get(saved.version).load(), saved.version)
    original = Recommender(pipeline)
    first = int(catalog.movies["id"].iloc[0])
    assert [r.id for r in reloaded.recommend(movie_id=first, k=5).recommendations] == [
        r.id for r in original.recommend(movie_id=first, k=5).recommendations
    ]
    assert len(reloaded.recommend(movie_id=first, k=5).recommendations) == 5
    assert reloaded.recommend("a story of robots and space", k=3).cold_start


def test_collaborative_neighbours_follow_who_liked_what(tmp_path: Path) -> None:
    catalog = load_catalog(random_catalog(tmp_path))
    pipeline = fit_pipeline(build_pipeline("itemknn", {"recommender__n_neighbors": 10}), catalog.movies, clustered_ratings())
    result = Recommender(pipeline).recommend(movie_id=4, k=5)
    assert all(item.id % N_CLUSTERS == 0 for item in result.recommendations)
    assert result.recommendations[0].reasons[0].startswith("liked by ")
    assert "people who liked" in result.recommendations[0].reasons[0]


def test_hybrid_answers_a_movie_nobody_rated_from_its_content(tmp_path: Path) -> None:
    newcomer = (999, "Zyxx Returns", "Sci-Fi|Horror", "zyxx wakes again in the deep", 2030, 0.0)
    sequel = (998, "Zyxx", "Sci-Fi|Horror", "the first zyxx story in the deep", 2029, 0.0)
    catalog = load_catalog(random_catalog(tmp_path, [newcomer, sequel]))
    pipeline = fit_pipeline(build_pipeline("hybrid", {"recommender__n_neighbors": 10}), catalog.movies, clustered_ratings())
    model = pipeline[-1]
    assert model.interaction_counts_[model.ids_.tolist().index(999)] == 0
    result = Recommender(pipeline).recommend("Zyxx Returns", k=3)
    assert result.match.id == 999 and not result.cold_start
    assert result.recommendations[0].id == 998
    assert any("zyxx" in reason for reason in result.recommendations[0].reasons)


def test_unknown_collaborative_setting_is_refused(tmp_path: Path) -> None:
    catalog = load_catalog(random_catalog(tmp_path))
    with pytest.raises(ValueError, match="collaborative must be one of"):
        fit_pipeline(build_pipeline("hybrid", {"recommender__collaborative": "svd"}), catalog.movies, clustered_ratings())


def test_popularity_baseline_ranks_by_training_likes(tmp_path: Path) -> None:
    catalog = load_catalog(random_catalog(tmp_path))
    ratings = clustered_ratings()
    pipeline = fit_pipeline(build_pipeline("popularity", {"recommender__n_neighbors": 10}), catalog.movies, ratings)
    liked = ratings.groupby("movie_id").size()
    shown = [item.id for item in Recommender(pipeline).recommend(movie_id=1, k=5).recommendations]
    assert np.all(np.diff([liked.get(movie, 0) for movie in shown]) <= 0)


def write_ratings(path: Path, ratings: pd.DataFrame) -> Path:
    return write_csv(path, list(ratings.columns), ratings.itertuples(index=False))


def test_auto_tuning_picks_on_validation_data_and_says_why(tmp_path: Path) -> None:
    from movie_r.lifecycle.fitting import load_training_data
    from movie_r.lifecycle.tuning import tune
    from movie_r.settings import Settings

    ratings = write_ratings(tmp_path / "r.csv", clustered_ratings())
    settings = Settings(home=tmp_path, neighbours=10, min_coverage=0.0)
    data = load_training_data(random_catalog(tmp_path), ratings)
    chosen = tune(settings, data, ["tfidf", "itemknn"])
    assert chosen.kind == "itemknn"
    assert "best mean validation ndcg@10" in chosen.selection.reason
    assert "over 3 validation folds (the latest 20%/30%/40%" in chosen.selection.reason
    assert {row.kind for row in chosen.selection.validation} == {"tfidf", "itemknn"}
    # every configuration on the first fold, the best third of them (2 of 6) on all three
    assert sorted(len(row.folds) for row in chosen.selection.validation) == [1, 1, 1, 1, 3, 3]
    assert "the best 2 of them on the first fold then on all" in chosen.selection.reason
    for row in chosen.selection.validation:
        assert [fold.fraction for fold in row.folds] == [0.2, 0.3, 0.4][: len(row.folds)]
        assert row.metrics["ndcg@10"] == pytest.approx(np.mean([fold.score for fold in row.folds]))
        assert row.lowest_coverage == min(fold.coverage for fold in row.folds)
    assert chosen.report.protocol == "interactions"
    assert chosen.selection.tuned_on_users == chosen.selection.users == clustered_ratings()["user_id"].nunique()


def test_reused_text_steps_fit_the_same_model_as_a_fresh_fit(tmp_path: Path) -> None:
    catalog = load_catalog(random_catalog(tmp_path))
    fitted_text: dict = {}
    for kind in ("itemknn", "hybrid", "tfidf"):  # the first fit fills the cache, the others reuse it
        fresh = fit_pipeline(build_pipeline(kind, {"recommender__n_neighbors": 10}), catalog.movies, clustered_ratings())
        reused = fit_pipeline(
            build_pipeline(kind, {"recommender__n_neighbors": 10}), catalog.movies, clustered_ratings(), fitted_text=fitted_text
        )
        np.testing.assert_array_equal(fresh[-1].neighbors_, reused[-1].neighbors_)
        np.testing.assert_allclose(fresh[-1].similarities_, reused[-1].similarities_)
    assert len(fitted_text) == 1
    other = build_pipeline("tfidf", {"text__genre_weight": 5})
    fit_pipeline(other, catalog.movies, fitted_text=fitted_text)  # other text parameters: fitted anew
    assert len(fitted_text) == 2 and other[-1].item_matrix_.shape[0] == len(catalog)


def test_tuning_takes_one_fold_when_it_holds_enough_queries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from movie_r.lifecycle import fitting, tuning
    from movie_r.settings import Settings

    monkeypatch.setattr(tuning, "TUNING_QUERIES", 50)  # the clustered users give about 120 queries a fold
    settings = Settings(home=tmp_path, neighbours=10, min_coverage=0.0)
    data = fitting.load_training_data(random_catalog(tmp_path), write_ratings(tmp_path / "r.csv", clustered_ratings()))
    chosen = tuning.tune(settings, data, ["itemknn"])
    assert all([fold.fraction for fold in row.folds] == [0.2] for row in chosen.selection.validation)
    assert "over 1 validation fold (the latest 20%" in chosen.selection.reason


def test_tuning_passes_over_a_configuration_that_covers_too_little_on_any_fold() -> None:
    from movie_r.lifecycle.tuning import best_tried
    from movie_r.storage.manifest import TriedConfiguration

    def tried(name: str, ndcg: float, coverages: list[float]) -> TriedConfiguration:
        return TriedConfiguration(kind=name, metrics={"ndcg@10": ndcg}, lowest_coverage=min(coverages))

    narrow = tried("narrow", 0.30, [0.2, 0.05, 0.2])  # best on average, but one fold's lists are narrow
    broad = tried("broad", 0.25, [0.12, 0.11, 0.15])
    assert best_tried([narrow, broad, tried("weak", 0.1, [0.5, 0.5, 0.5])], 0.1).kind == "broad"
    assert best_tried([narrow], 0.1).kind == "narrow"  # when none covers enough, the best of all


def test_auto_tunes_on_a_sample_of_users_then_fits_on_everyone(tmp_path: Path) -> None:
    from movie_r.lifecycle.fitting import load_training_data
    from movie_r.lifecycle.tuning import tune
    from movie_r.settings import Settings

    everyone = clustered_ratings()
    settings = Settings(home=tmp_path, neighbours=10, min_coverage=0.0, tune_users=100)
    data = load_training_data(random_catalog(tmp_path), write_ratings(tmp_path / "r.csv", everyone))
    chosen = tune(settings, data, ["itemknn"])
    assert chosen.selection.tuned_on_users == 100 < chosen.selection.users == everyone["user_id"].nunique()
    assert "tuned on 100 of" in chosen.selection.reason
    # the chosen configuration is fitted on every user's training ratings, not on the sample
    assert chosen.pipeline[-1].positives_.nnz == data.train_ratings[data.train_ratings["rating"] >= 4].shape[0]


@pytest.mark.parametrize("kind", ["hybrid", "rp3beta"])
def test_a_grid_point_scores_the_same_with_only_its_queries_movies_ranked(tmp_path: Path, kind: str) -> None:
    from movie_r.lifecycle.fitting import fit_candidate, load_training_data
    from movie_r.settings import Settings

    settings = Settings(home=tmp_path, neighbours=10)
    data = load_training_data(random_catalog(tmp_path), write_ratings(tmp_path / "r.csv", clustered_ratings()))
    queried = {query.movie_id for query in data.queries.queries}
    assert len(queried) < len(data.catalog.movies)  # so the shortcut leaves some out
    full, some = (fit_candidate(settings, data, kind, queried_only=flag) for flag in (False, True))
    assert some.report.metrics == full.report.metrics
    assert (some.pipeline[-1].similarities_.max(axis=1) > 0).sum() <= len(queried)


def test_grid_points_sharing_signals_score_as_each_fitted_alone(tmp_path: Path) -> None:
    from movie_r.lifecycle.fitting import fit_candidate, load_training_data
    from movie_r.recommenders.kinds import GRIDS
    from movie_r.recommenders.shared_signals import SharedSignals
    from movie_r.settings import Settings

    settings = Settings(home=tmp_path, neighbours=10)
    data = load_training_data(random_catalog(tmp_path), write_ratings(tmp_path / "r.csv", clustered_ratings()))
    grid = [("ease", {}), ("itemknn", {})] + [("hybrid", params) for params in GRIDS["hybrid"]]
    shared, fitted_text = SharedSignals(), {}
    together = [fit_candidate(settings, data, kind, params, True, fitted_text, shared) for kind, params in grid]
    for (kind, params), candidate in zip(grid, together, strict=True):
        alone = fit_candidate(settings, data, kind, params, True)
        assert candidate.report.metrics == alone.report.metrics, (kind, params)
        assert np.array_equal(candidate.pipeline[-1].similarities_, alone.pipeline[-1].similarities_)
    blends = [candidate.pipeline[-1] for candidate in together if candidate.kind == "hybrid"]
    assert blends[0].collaborative_ is blends[1].collaborative_  # one item-kNN fitted for the grid points around it


@pytest.mark.slow
def test_halving_in_parallel_picks_what_exhaustive_tuning_picks_on_the_default_data(tmp_path: Path, monkeypatch) -> None:
    """The default data's ratings, sampled to a fifth of its users so the exhaustive reference stays cheap."""
    from movie_r.lifecycle import fitting, tuning
    from movie_r.recommenders.kinds import AUTO_KINDS
    from movie_r.settings import Settings

    settings = Settings(home=tmp_path, tune_users=150, tune_jobs=2)
    data = fitting.load_training_data(settings.catalog, settings.interactions)
    halving = tuning.tune(settings, data, AUTO_KINDS)
    monkeypatch.setattr(tuning, "PROMOTED_SHARE", 1.0)
    exhaustive = tuning.tune(Settings(home=tmp_path, tune_users=150, tune_jobs=1), data, AUTO_KINDS)
    assert all(len(row.folds) == 3 for row in exhaustive.selection.validation)
    assert sum(len(row.folds) == 3 for row in halving.selection.validation) < len(exhaustive.selection.validation)
    assert (halving.kind, halving.params) == (exhaustive.kind, exhaustive.params)
    assert halving.report.metrics == exhaustive.report.metrics
