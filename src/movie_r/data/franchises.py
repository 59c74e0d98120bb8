"""Franchise siblings found by rule from titles alone: "Toy Story", "Toy Story 2" and "Toy
Story 3"; "Kill Bill: Vol. 1" and "Kill Bill: Vol. 2"; "Godfather, The" and "Godfather: Part
II, The". Two titles are siblings when they share their leading words (the title before a
subtitle, without a sequel number) and are not the same title.

A measure of whether answers look right to a person (a film's own sequels among its first
answers), beside the ranking metrics of what people liked; not a signal the models use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from movie_r.data.title_keys import ARTICLES, TRAILING_ARTICLE, TRAILING_PARENTHESIS, TRAILING_YEAR, normalise_title

_SUBTITLE = re.compile(r"\s*(?::|\s-\s|\s–\s)\s*")
# A sequel number ends the leading words; past this it is more likely part of the title ("Apollo 13").
HIGHEST_SEQUEL = 9
# A "franchise" larger than this is a common word shared by unrelated titles ("Love: …").
LARGEST_FRANCHISE = 25
SHORTEST_BASE = 3  # characters of the leading words: "it" is not a franchise


def franchise_base(title: str) -> str:
    """The leading words a title shares with its siblings ("" for none): without year,
    alternative title, subtitle or trailing sequel number, as a matching key."""
    text = _bare(title)
    moved = TRAILING_ARTICLE.search(text)
    if moved and moved.group(1).lower() in ARTICLES:  # "Godfather: Part II, The": the article belongs in front
        text = text[: moved.start()]
    words = normalise_title(_SUBTITLE.split(text, maxsplit=1)[0]).split()
    if len(words) > 1 and words[-1].isdigit() and 0 < int(words[-1]) <= HIGHEST_SEQUEL:
        words = words[:-1]
    base = " ".join(words)
    return base if len(base) >= SHORTEST_BASE and not base.isdigit() else ""


def franchise_siblings(titles: Sequence[str]) -> dict[int, list[int]]:
    """For each row whose title has siblings among `titles`, their rows (the same title
    again, a remake or one under its original title, is no sibling)."""
    groups: dict[str, list[int]] = {}
    for row, title in enumerate(titles):
        if base := franchise_base(title):
            groups.setdefault(base, []).append(row)
    keys = [normalise_title(_bare(title)) for title in titles]
    siblings: dict[int, list[int]] = {}
    for rows in groups.values():
        if not 1 < len(rows) <= LARGEST_FRANCHISE:
            continue
        for row in rows:
            if others := [other for other in rows if keys[other] != keys[row]]:
                siblings[row] = others
    return siblings


def _bare(title: str) -> str:
    """The title without its year and alternative title."""
    return TRAILING_PARENTHESIS.sub("", TRAILING_YEAR.sub("", title.strip()))
