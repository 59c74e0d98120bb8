"""The model kinds as plain parameter presets, and the grids tuned per kind.

Plain data with no scikit-learn import, so the command line can offer the kinds without
loading the libraries that build them.
"""

from __future__ import annotations

from typing import Any

DEFAULT_PARAMS: dict[str, Any] = {
    "text__title_weight": 2,
    "text__genre_weight": 3,
    "text__overview_weight": 1,
    "text__decade_weight": 1,
    "tfidf__stop_words": "english",
    "tfidf__ngram_range": (1, 1),
    "tfidf__sublinear_tf": True,
    "tfidf__min_df": 1,
    "tfidf__max_df": 0.5,
    "recommender__n_neighbors": 100,
}

# The signals a kind's blend may hold, by the plain name presets and manifests use for them
# (`movie_r.recommenders.pipeline.SIGNALS` maps each name to its estimator). "none" leaves the slot empty.
SLOTS = ("recommender__content", "recommender__collaborative", "recommender__session", "recommender__popularity")

# kind -> parameters over DEFAULT_PARAMS; all but tfidf need interactions to mean anything
KINDS: dict[str, dict[str, Any]] = {
    "tfidf": {},
    "popularity": {
        "recommender__popularity": "popularity",
        "recommender__content_weight": 0.0,
        "recommender__popularity_weight": 1.0,
    },
    "itemknn": {"recommender__collaborative": "itemknn", "recommender__collaborative__shrinkage": 10.0},
    "ease": {"recommender__collaborative": "ease", "recommender__collaborative__l2": 200.0},
    # two published baselines: RP3beta (Paudel et al. 2016) and directed next-item co-occurrence
    "rp3beta": {
        "recommender__collaborative": "rp3beta",
        "recommender__collaborative__alpha": 0.8,
        "recommender__collaborative__beta": 0.1,
    },
    "nextitem": {
        "recommender__collaborative": "nextitem",
        "recommender__collaborative__window": 20,
        "recommender__collaborative__decay": 0.95,
        "recommender__collaborative__damping": 0.0,
    },
    # the preset, what `--model hybrid` fits untuned; `auto` tunes it over GRIDS["hybrid"]
    "hybrid": {
        "recommender__collaborative": "itemknn",
        "recommender__collaborative__shrinkage": 50.0,
        "recommender__session": "session",
        "recommender__session__shrinkage": 50.0,
        "recommender__session_weight": 0.5,
        "recommender__popularity": "popularity",
        "recommender__popularity_weight": 0.2,
        "recommender__blend_shrinkage": 10.0,
    },
}


# the configurations `movie-r train --model auto` (and the agent) try per kind, on validation data
GRIDS: dict[str, list[dict[str, Any]]] = {
    "tfidf": [{}, {"text__genre_weight": 5}, {"text__title_weight": 3, "text__genre_weight": 2}],
    "popularity": [{}],
    "itemknn": [{"recommender__collaborative__shrinkage": shrinkage} for shrinkage in (0.0, 10.0, 50.0)],
    "ease": [{"recommender__collaborative__l2": l2} for l2 in (50.0, 200.0, 1000.0)],
    "rp3beta": [
        {"recommender__collaborative__alpha": alpha, "recommender__collaborative__beta": beta}
        for alpha in (0.6, 0.8, 1.0)
        for beta in (0.0, 0.1, 0.3)
    ],
    "nextitem": [
        {"recommender__collaborative__window": window, "recommender__collaborative__damping": damping}
        for window in (5, 20)
        for damping in (0.0, 0.1, 0.3)
    ],
    "hybrid": [
        {
            "recommender__collaborative": collaborative,
            **({"recommender__collaborative__shrinkage": 50.0} if collaborative == "itemknn" else {"recommender__collaborative__l2": 1000.0}),
            "recommender__session_weight": sequence,
            "recommender__popularity_weight": weight,
        }
        for collaborative in ("itemknn", "ease")
        for sequence in (0.0, 0.5)
        for weight in (0.2, 0.4)
    ]
    # RP3beta in the hybrid ranks higher what people liked next, but lists that look less like
    # the movie asked about (docs/benchmarks.md, Recommendation quality); the genre boost gives that back.
    # Its title boost is benchmarks/quality.py's rule on validation (the largest within 2 % of the best
    # NDCG@10 at every cut): a film's own sequels back among its first answers
    + [
        {
            "recommender__collaborative": "rp3beta",
            "recommender__collaborative__alpha": 0.6,
            "recommender__collaborative__beta": 0.1,
            "recommender__session_weight": 0.3,
            "recommender__popularity_weight": weight,
            "recommender__blend_shrinkage": shrinkage,
            "recommender__genre_boost": 0.1,
            "recommender__title_boost": 0.5,
        }
        for weight in (0.25, 0.3)
        for shrinkage in (3.0, 10.0)
    ],
}



# what `--model auto` and the agent tune: the baselines RP3beta and next-item are there to be
# measured against and chosen by hand (`--model rp3beta`); auto choosing one would trade
# genre overlap for NDCG@10 (docs/benchmarks.md, Recommendation quality)
AUTO_KINDS = ["tfidf", "popularity", "itemknn", "ease", "hybrid"]


def kind_params(kind: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """`params` over the kind's preset over the defaults. A slot that `params` fills with another
    signal than the preset's drops the preset's settings of that slot's signal (an EASE in place
    of an item-kNN has no use for its shrinkage)."""
    merged = {**DEFAULT_PARAMS, **KINDS[kind]}
    for slot in SLOTS:
        if slot in (params or {}) and (params or {})[slot] != merged.get(slot):
            merged = {name: value for name, value in merged.items() if not name.startswith(slot + "__")}
    return {**merged, **(params or {})}
