"""Synthetic catalogues for benchmarks and tests: Zipf-distributed words, ~40-word overviews.

Real overviews follow Zipf's law: a few words (many of them stop words) everywhere, a long
tail nearly nowhere. Sampling from that shape gives TF-IDF matrices with realistic
sparsity, which is what the neighbour computation's cost depends on.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

GENRES = [
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip
STOP_WORDS = ["the", "a", "of", "and", "to", "in", "is", "his", "her", "with", "for", "on", "an", "by", "as", "at", "from", "who", "their", "when", "that"]  # fmt: skip
SYLLABLES = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi", "da", "re", "po", "li", "ga", "be", "to", "mu", "sa", "ne", "fi", "ro"]  # fmt: skip


def vocabulary(size: int, rng: np.random.Generator) -> np.ndarray:
    # rng.integers over the syllables' indices draws what rng.choice(SYLLABLES, ...) draws, at half its cost
    words = {"".join([SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), size=rng.integers(2, 5))]) for _ in range(size * 2)}
    return rng.permutation(sorted(words))[:size]


def synthetic_catalog(n: int, seed: int = 0, words_per_overview: int = 40, vocab_size: int = 30_000) -> pd.DataFrame:
    """`n` movies shaped like a TMDB export: id, title, genres, overview, year, popularity.

    The same arguments give the same frame, made once per process (drawing the vocabulary
    takes a second or two, whatever `n`) and copied for each caller."""
    return _synthetic_catalog(n, seed, words_per_overview, vocab_size).copy()


@lru_cache(maxsize=16)
def _synthetic_catalog(n: int, seed: int, words_per_overview: int, vocab_size: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vocab = np.concatenate([STOP_WORDS, vocabulary(vocab_size, rng)])
    ranks = np.arange(1, len(vocab) + 1)
    weights = 1.0 / ranks**1.07
    weights /= weights.sum()
    overview_words = rng.choice(vocab, size=(n, words_per_overview), p=weights)
    title_words = rng.choice(vocab[len(STOP_WORDS) :], size=(n, 3), p=_renormalised(weights[len(STOP_WORDS) :]))
    title_lengths = rng.integers(1, 4, size=n)
    genre_counts = rng.integers(1, 4, size=n)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "title": [" ".join(words[:length]).title() for words, length in zip(title_words, title_lengths, strict=True)],
            "genres": [tuple(str(g) for g in rng.choice(GENRES, size=count, replace=False)) for count in genre_counts],
            "overview": [" ".join(words) for words in overview_words],
            "year": rng.integers(1920, 2025, size=n).astype(float),
            "popularity": rng.pareto(1.5, size=n),
        }
    )


def _renormalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def write_catalog_csv(movies: pd.DataFrame, path: Path) -> Path:
    """Save a catalogue frame in the CSV format `load_catalog` reads."""
    out = movies.assign(genre=movies["genres"].map("|".join)).drop(columns="genres")
    out[["id", "title", "genre", "overview", "year", "popularity"]].to_csv(path, index=False)
    return path
