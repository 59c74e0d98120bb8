"""Governance with real ratings: a hybrid challenger wins where people's likes carry the
signal, and is turned down where the TF-IDF champion already finds everything."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from movie_r.settings import Settings
from movie_r.storage.registry import Registry
from movie_r_agents.tick import run_tick

from ..conftest import write_csv
from ..test_models import clustered_ratings, random_catalog, write_ratings


def settings_for(tmp_path: Path, catalog: Path, ratings: Path) -> Settings:
    return Settings(home=tmp_path / "home", catalog=catalog, interactions=ratings, neighbours=10, min_coverage=0.0, online="off")


def test_hybrid_is_promoted_over_tfidf_where_likes_carry_the_signal(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, random_catalog(tmp_path), write_ratings(tmp_path / "r.csv", clustered_ratings()))
    first = run_tick(settings)
    assert first["verdict"] == "first champion"
    registry = Registry(settings.models_dir)
    assert registry.champion().manifest.kind == "tfidf"
    decision = run_tick(settings, force=True, kind="hybrid")
    assert decision["outcome"]["result"] == "promoted", decision["outcome"]
    assert registry.champion().manifest.kind == "hybrid"
    scores = decision["outcome"]["scores"]
    assert scores["challenger"] > scores["champion"]


def franchises(tmp_path: Path) -> tuple[Path, Path]:
    """Eight franchises of five parts; three people each watch one franchise part by part."""
    genres = ["Drama", "Comedy", "Horror", "Action", "Romance", "Crime", "War", "Western"]
    words = ["Zorblax", "Quintara", "Mellowby", "Draxxon", "Pellucid", "Vantablue", "Oorlong", "Fizzwick"]
    movies, ratings = [], []
    for f, word in enumerate(words):
        for part in range(5):
            movie_id = f * 5 + part + 1
            movies.append((movie_id, f"{word} Chapter {part + 1}", genres[f], "", 2000 + part, 1.0))
            for user in range(3):
                ratings.append((f"f{f}u{user}", movie_id, 5.0, float(part)))
    catalog = write_csv(tmp_path / "franchises.csv", ["id", "title", "genre", "overview", "year", "popularity"], movies)
    frame = pd.DataFrame(ratings, columns=["user_id", "movie_id", "rating", "timestamp"])
    return catalog, write_ratings(tmp_path / "franchise_ratings.csv", frame)


def test_hybrid_is_rejected_where_it_is_not_better(tmp_path: Path) -> None:
    catalog, ratings = franchises(tmp_path)
    settings = settings_for(tmp_path, catalog, ratings)
    champion = run_tick(settings)["outcome"]["challenger"]
    decision = run_tick(settings, force=True, kind="hybrid")
    assert decision["outcome"]["scores"]["champion"] == 1.0  # TF-IDF already finds every next chapter
    assert decision["outcome"]["result"] == "rejected", decision["outcome"]
    assert Registry(settings.models_dir).champion_version() == champion
