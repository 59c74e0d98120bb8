"""How a query was answered: the closed set of words the API, its metrics and events share."""

from __future__ import annotations

from enum import StrEnum


class MatchMethod(StrEnum):
    exact = "exact"  # the title's key, or a movie id
    partial = "partial"  # the start of titles ("star wars")
    fuzzy = "fuzzy"  # a slip of a title, or a title spelt as it sounds
    text = "text"  # a cold start answered from the query's words
    popular = "popular"  # a cold start the words could not answer: the most popular movies
    history = "history"  # several seeds, their lists combined (`history`)
