"""Title normalisation and lookup: what people type resolves to the right catalogue row."""

from __future__ import annotations

import numpy as np
import pytest

from movie_r.titles import TitleIndex, normalise_title


@pytest.mark.parametrize(
    "typed",
    ["The Dark Knight", "Dark Knight, The", "the dark knight (2008)", "  THE DARK KNIGHT!  ", "dark knight"],
)
def test_spellings_of_one_title_share_a_key(typed: str) -> None:
    assert normalise_title(typed) == "dark knight"


def test_accents_and_punctuation_do_not_matter() -> None:
    assert normalise_title("Amélie") == normalise_title("amelie")
    assert normalise_title("WALL·E") == normalise_title("wall e")
    assert normalise_title("Cité des enfants perdus, La") == "cite des enfants perdus"


def test_a_title_that_is_only_an_article_keeps_it() -> None:
    assert normalise_title("It") == "it"
    assert normalise_title("The") == "the"


def index(titles: list[str], popularity: list[float] | None = None) -> TitleIndex:
    return TitleIndex(titles, np.array(popularity or [1.0] * len(titles)))


def test_exact_lookup_orders_same_titled_rows_by_popularity() -> None:
    found = index(["Hamlet", "Heat", "Hamlet"], [5, 1, 50]).lookup("hamlet")
    assert found.method == "exact"
    assert found.rows == (2, 0)


def test_alternative_title_in_parentheses_is_a_key() -> None:
    assert index(["Heavyweights (Heavy Weights)"]).lookup("Heavyweights").rows == (0,)


def test_typo_resolves_fuzzily_above_the_threshold() -> None:
    found = index(["Shawshank Redemption, The", "Heat"]).lookup("Shawshank Redemtion")
    assert found.method == "fuzzy"
    assert found.rows == (0,)
    assert 80 <= found.score < 100


def test_unrelated_text_does_not_resolve() -> None:
    assert index(["Shawshank Redemption, The", "Heat"]).lookup("space adventure with robots") is None


def test_search_finds_titles_by_prefix() -> None:
    hits = index(["Toy Story", "Toy Story 2", "Heat"]).search("toy sto", limit=5)
    assert {row for row, _ in hits} == {0, 1}
