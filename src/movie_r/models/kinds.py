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

# kind -> parameters over DEFAULT_PARAMS; all but tfidf need interactions to mean anything
KINDS: dict[str, dict[str, Any]] = {
    "tfidf": {},
    "popularity": {"recommender__collaborative": "none", "recommender__content_weight": 0.0, "recommender__popularity_weight": 1.0},
    "itemknn": {"recommender__collaborative": "itemknn", "recommender__knn_shrinkage": 10.0},
    "ease": {"recommender__collaborative": "ease", "recommender__ease_l2": 200.0},
    "hybrid": {
        "recommender__collaborative": "itemknn",
        "recommender__knn_shrinkage": 50.0,
        "recommender__blend_shrinkage": 10.0,
        "recommender__sequence_weight": 0.5,
        "recommender__popularity_weight": 0.2,
    },
}


# the configurations `movie-r train --model auto` (and the agent) try per kind, on validation data
GRIDS: dict[str, list[dict[str, Any]]] = {
    "tfidf": [{}, {"text__genre_weight": 5}, {"text__title_weight": 3, "text__genre_weight": 2}],
    "popularity": [{}],
    "itemknn": [{"recommender__knn_shrinkage": shrinkage} for shrinkage in (0.0, 10.0, 50.0)],
    "ease": [{"recommender__ease_l2": l2} for l2 in (50.0, 200.0, 1000.0)],
    "hybrid": [
        {
            "recommender__collaborative": collaborative,
            "recommender__knn_shrinkage": 50.0,
            "recommender__ease_l2": 1000.0,
            "recommender__blend_shrinkage": 10.0,
            "recommender__sequence_weight": sequence,
            "recommender__popularity_weight": weight,
        }
        for collaborative in ("itemknn", "ease")
        for sequence in (0.0, 0.5)
        for weight in (0.2, 0.4)
    ],
}
