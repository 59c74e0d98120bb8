"""Answers to /recommend, serialised once per model and kept as bytes.

A model never changes once loaded and real traffic repeats itself, so each distinct
request is computed and serialised once. Keeping the JSON bytes (and a tuple of plain
values for the runtime event) instead of result objects leaves nothing in the cache for
Python's cyclic garbage collector to scan, which kept full collections from setting the
tail latency as the cache filled.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import orjson

from movie_r.inference import Filters, Recommender


class Answer(NamedTuple):
    """One computed answer: the response body after its first `{`, and what its event records."""

    body_tail: bytes
    method: str
    match_id: int | None
    cold_start: bool
    returned: int
    top1_similarity: float | None
    mean_similarity: float | None
    query: str | None


class AnswerCache:
    """An LRU cache of answers in front of one recommender (size 0 turns it off)."""

    def __init__(self, recommender: Recommender, size: int) -> None:
        self.recommender = recommender
        self.get = functools.lru_cache(maxsize=size)(self._compute)

    def _compute(self, query: str | None, movie_id: int | None, k: int, filters: Filters) -> Answer:
        result = self.recommender.recommend(query, movie_id, k, filters)
        scores = [item.score for item in result.recommendations]
        similar = bool(scores) and result.match.method != "popular"  # popularity answers carry no similarity
        return Answer(
            body_tail=orjson.dumps(result)[1:],  # orjson reads dataclasses itself: no asdict deep copy
            method=result.match.method,
            match_id=result.match.id,
            cold_start=result.cold_start,
            returned=len(scores),
            top1_similarity=scores[0] if similar else None,
            mean_similarity=sum(scores) / len(scores) if similar else None,
            query=result.query if result.cold_start else None,
        )


def response_body(request_id: str, model_version: str, answer: Answer) -> bytes:
    """`{"request_id": ..., "model_version": ..., <the cached answer>}` without re-serialising it."""
    head = b'{"request_id":' + orjson.dumps(request_id) + b',"model_version":' + orjson.dumps(model_version) + b","
    return head + answer.body_tail
