"""Building and fitting the model pipeline of each kind: the same contract for all.

Every kind is `MovieText -> TfidfVectorizer -> Blend`; the text steps also answer
cold-start text queries, the blend composes the kind's signals and keeps the precomputed
neighbours. A kind is a preset of plain parameters (signals by name, their settings by
value), so a grid of challengers is a list of parameter dicts and a manifest stores them
as JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline

from movie_r.errors import DataError
from movie_r.recommenders.blend import Blend
from movie_r.recommenders.collaborative import EASE, ItemKNN
from movie_r.recommenders.content import ContentSimilarity
from movie_r.recommenders.features import MovieText
from movie_r.recommenders.kinds import KINDS, SLOTS, kind_params
from movie_r.recommenders.neighbours import BlockRunner
from movie_r.recommenders.popularity import Popularity
from movie_r.recommenders.rp3beta import RP3beta
from movie_r.recommenders.session import NextItems, SessionCoLikes
from movie_r.recommenders.shared_signals import SharedSignals

# the signals by the names presets, grids and manifests give them
SIGNALS: dict[str, type[BaseEstimator]] = {
    "content": ContentSimilarity,
    "itemknn": ItemKNN,
    "ease": EASE,
    "rp3beta": RP3beta,
    "session": SessionCoLikes,
    "nextitem": NextItems,
    "popularity": Popularity,
}


def build_pipeline(kind: str = "tfidf", params: dict[str, Any] | None = None, block_memory_mb: int = 256) -> Pipeline:
    """An unfitted pipeline of `kind`, with `params` over the kind's preset and the defaults."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    pipeline = Pipeline(
        [
            ("text", MovieText()),
            ("tfidf", TfidfVectorizer(dtype=np.float32)),
            ("recommender", Blend(block_memory_mb=block_memory_mb)),
        ]
    )
    return pipeline.set_params(**_with_signals(kind_params(kind, params)))


# Text steps fitted on one catalogue, by their parameters: the fitted steps and the matrix they made.
FittedText = dict[str, tuple[list[tuple[str, BaseEstimator]], Any]]


def fit_pipeline(
    pipeline: Pipeline,
    movies: pd.DataFrame,
    interactions: pd.DataFrame | None = None,
    neighbours_of: np.ndarray | None = None,
    fitted_text: FittedText | None = None,
    shared: SharedSignals | None = None,
    runner: BlockRunner | None = None,
) -> Pipeline:
    """Fit on a catalogue frame; the blend also gets the frame and the ratings, and which
    movies' neighbour lists to rank (`Blend.fit_neighbours`; all by default).

    `fitted_text`, kept by the caller across fits on the same catalogue, hands on text steps
    already fitted with the same parameters: tuning fits dozens of pipelines that differ in
    their blend alone, and building the documents and their TF-IDF was a third of each fit.
    `shared` does the same for the blend's evidence and signals (`SharedSignals`); `runner`
    ranks the neighbour blocks (`Blend.fit_neighbours`).
    """
    try:
        if fitted_text is None:
            return pipeline.fit(
                movies,
                recommender__catalog=movies,
                recommender__interactions=interactions,
                recommender__neighbours_of=neighbours_of,
                recommender__shared=shared,
                recommender__runner=runner,
            )
        steps, matrix = fitted_text_of(pipeline, movies, fitted_text)
        pipeline.steps[:-1] = steps
        pipeline[-1].fit(matrix, catalog=movies, interactions=interactions, neighbours_of=neighbours_of, shared=shared, runner=runner)
        return pipeline
    except ValueError as exc:
        if "empty vocabulary" not in str(exc):
            raise
        raise DataError(
            "the catalogue's titles, genres and overviews hold no word to compare movies by (only stop words?)"
        ) from None


def fitted_text_of(pipeline: Pipeline, movies: pd.DataFrame, fitted_text: FittedText) -> tuple[list[tuple[str, BaseEstimator]], Any]:
    """The text steps of `pipeline` fitted on `movies`, and the matrix they made: from
    `fitted_text` when steps with the same parameters are there, else fitted and kept there."""
    key = repr([step.get_params() for _, step in pipeline.steps[:-1]])
    if key not in fitted_text:
        text = pipeline[:-1]
        fitted_text[key] = (text.steps, text.fit_transform(movies))
    return fitted_text[key]


def _with_signals(params: dict[str, Any]) -> dict[str, Any]:
    """Signal names in the slots replaced by fresh estimators ("none": the slot stays empty)."""
    built = dict(params)
    for slot in SLOTS:
        name = built.get(slot)
        if isinstance(name, str):
            if name != "none" and name not in SIGNALS:
                raise ValueError(f"{slot.removeprefix('recommender__')} must be one of {', '.join(SIGNALS)} or none, got {name!r}")
            built[slot] = SIGNALS[name]() if name != "none" else None
    return built


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a manifest stores them (tuples become lists)."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in params.items()}


def restore_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters read back from a manifest, ready for `build_pipeline` (older names translated)."""
    return upgrade_params({name: tuple(value) if isinstance(value, list) else value for name, value in params.items()})


OLD_NAMES = ("knn_shrinkage", "ease_l2", "ease_max_items", "sequence_weight", "sequence_window")


def upgrade_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters of a manifest written when the blend held its signals as string switches
    (`recommender__collaborative="itemknn"`, `recommender__knn_shrinkage`, ...) in today's
    names; today's parameters come back unchanged."""
    old = {name.removeprefix("recommender__"): value for name, value in params.items() if name.startswith("recommender__")}
    if not set(old) & set(OLD_NAMES) and old.get("collaborative") != "none":
        return dict(params)
    new = {name: value for name, value in params.items() if name.removeprefix("recommender__") not in OLD_NAMES}
    collaborative = old.get("collaborative")
    if collaborative == "itemknn" and "knn_shrinkage" in old:
        new["recommender__collaborative__shrinkage"] = old["knn_shrinkage"]
    if collaborative == "ease":
        for before, after in (("ease_l2", "l2"), ("ease_max_items", "max_items")):
            if before in old:
                new[f"recommender__collaborative__{after}"] = old[before]
    if collaborative not in (None, "none") and old.get("sequence_weight"):
        new.update({"recommender__session": "session", "recommender__session_weight": old["sequence_weight"]})
        new["recommender__session__shrinkage"] = old.get("knn_shrinkage", 10.0)  # the one shrinkage both used
        if "sequence_window" in old:
            new["recommender__session__window"] = old["sequence_window"]
    if old.get("popularity_weight"):
        new["recommender__popularity"] = "popularity"
    return new
