"""Franchise siblings by title rule: the "looks right" measure beside NDCG (issue 33)."""

from __future__ import annotations

from movie_r.data.franchises import franchise_base, franchise_siblings


def test_sequels_and_subtitles_share_a_base_and_remakes_are_no_siblings() -> None:
    titles = [
        "Toy Story (1995)", "Toy Story 2 (1999)", "Toy Story 3 (2010)",
        "Godfather, The (1972)", "Godfather: Part II, The (1974)",
        "Kill Bill: Vol. 1 (2003)", "Kill Bill: Vol. 2 (2004)",
        "Shame (1968)", "Shame (2011)", "Godzilla (Gojira) (1954)", "Godzilla (1998)",
        "Apollo 13 (1995)", "Heat (1995)",
    ]  # fmt: skip
    siblings = franchise_siblings(titles)
    assert siblings[0] == [1, 2] and siblings[2] == [0, 1]
    assert siblings[3] == [4] and siblings[4] == [3]
    assert siblings[5] == [6]
    for alone in (7, 8, 9, 10, 11, 12):  # remakes, one under its original title, a number that is the title
        assert alone not in siblings
    assert franchise_base("Star Trek VI: The Undiscovered Country (1991)") == "star trek"
    assert franchise_base("Star Trek: First Contact (1996)") == "star trek"
    assert franchise_base("It (2017)") == ""
