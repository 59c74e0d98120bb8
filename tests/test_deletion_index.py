"""The one-edit index finds every string within one edit, as scoring every string would."""

from __future__ import annotations

import random

from rapidfuzz.distance import OSA

from movie_r.answering.deletion_index import DeletionIndex
from movie_r.data.loading import load_catalog
from movie_r.data.title_keys import normalise_title
from movie_r.lifecycle.evaluation import typo
from movie_r.settings import Settings


def test_every_string_within_one_edit_is_a_candidate() -> None:
    keys = sorted({normalise_title(title) for title in load_catalog(Settings().catalog).movies["title"]})
    index = DeletionIndex(keys)
    rng = random.Random(3)
    queries = [typo(rng.choice(keys), rng) for _ in range(300)] + ["", "x", "men i nblack", "zzzz"]
    found_some = 0
    for query in queries:
        within = {position for position, key in enumerate(keys) if OSA.distance(query, key, score_cutoff=1) <= 1}
        assert within <= set(index.candidates(query)), query
        found_some += bool(within)
    assert found_some > 250  # most slips are one edit from their title, so the check met real matches


def test_an_empty_index_finds_nothing() -> None:
    assert DeletionIndex([]).candidates("heat") == []
