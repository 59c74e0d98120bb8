"""Answers to /recommend, serialised once per model and kept as bytes.

A model never changes once loaded and real traffic repeats itself, so each distinct
request is computed and serialised once. The list of recommendations depends only on the
catalogue row a query resolves to, so it is shared per row as well: a title, its id, other
spellings and typos of it share one list, and only their small head differs. For the
default request that list was computed when the version was saved (`ranked_lists`);
other lists are computed on first use and cached.
Keeping JSON bytes (and a tuple of plain values for the runtime event) instead of result
objects leaves nothing in the cache for Python's cyclic garbage collector to scan, which
kept full collections from setting the tail latency as the cache filled.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from movie_r.answering.history import recommend_from_history
from movie_r.answering.inference import DEFAULT_K, Filters, Match, Recommendation, Recommender
from movie_r.answering.match_method import MatchMethod
from movie_r.answering.ranked_lists import Ranked, RankedLists, ranked
from movie_r_api.lru import BoundedMemo
from movie_r_api.request_ids import encode_movies
from movie_r_api.schemas import HistoryRequest, RecommendQuery


class Listed(NamedTuple):
    """A row's ranked list and the movies part of the answer ids that cite it (`encode_movies`)."""

    ranked: Ranked
    movies: str


class Answer(NamedTuple):
    """One computed answer: its JSON in two parts, and what its runtime event records.

    `head` runs from `"query"` to `"recommendations":`; `recommendations` is the JSON list,
    shared (not copied) with every answer that resolved to the same row.
    """

    head: bytes
    recommendations: bytes
    method: str
    match_id: int | None
    cold_start: bool
    returned: int
    top1_similarity: float | None
    mean_similarity: float | None
    query: str | None
    cited: str  # `<version>.<movies>`: what this answer's id carries (request_ids.encode_movies)
    seeds: int = 0  # a history's seeds; 0 for one movie (whose list is shared with its row's other answers)


NO_FILTERS = Filters()
EXCLUDED_ID_BYTES = 64  # an int in a frozenset: the object and its share of the hash table


class AnswerCache:
    """LRU caches of answers and of per-row lists in front of one recommender (size 0 turns them off).

    A row's list for the default request comes from the version's precomputed `lists`
    when it has them; other `k`s and filtered requests are ranked on demand.
    """

    def __init__(self, recommender: Recommender, size: int, lists: RankedLists | None = None, max_bytes: int = 128 << 20) -> None:
        self.recommender = recommender
        self.size = size
        self.lists = lists
        share = max_bytes // 4  # a quarter of the budget for each memo
        self.for_query_string = BoundedMemo(self._parse_and_answer, size, share, _raw_size)
        self.get = BoundedMemo(self._compute, size, share, _answer_size)
        self._similar = BoundedMemo(self._rank, size, share, _list_size)
        # a precomputed list read and its movies encoded once per row: typos of a movie all share it
        self._precomputed = BoundedMemo(self._read_precomputed, size, share, _precomputed_size)

    def warm(self, count: int) -> None:
        """Answer the `count` most popular movies, by exact title and by id, with default parameters.

        Popular titles are most of the traffic, so after a swap the first users of a new
        model find them computed instead of paying the cold cost of the first answer.
        """
        for row in self.recommender.popular_rows()[: min(count, self.size // 2)]:
            movie = self.recommender.movie(int(row))
            self.get(movie["title"], None, DEFAULT_K, NO_FILTERS)
            self.get(None, movie["id"], DEFAULT_K, NO_FILTERS)

    def _parse_and_answer(self, query_string: bytes) -> tuple[Answer, int]:
        """The answer to a raw /recommend query string, and its `k`.

        Keyed by the bytes clients send, a repeated request skips parsing and validation
        too; requests that differ only in spelling still meet in `get` and the per-row
        lists. Errors raise and are not cached.
        """
        query = RecommendQuery.from_query_string(query_string)
        if isinstance(query, HistoryRequest):
            return self.for_history(query), query.k
        return self.get(query.movie, query.movie_id, query.k, query.filters()), query.k

    def for_history(self, request: HistoryRequest) -> Answer:
        """The answer to a history. Not kept in `get`: a person's history seldom repeats
        (the same GET query string does repeat, and is kept by `for_query_string`)."""
        seeds = request.seeds()
        result = recommend_from_history(self.recommender, seeds, request.k, request.filters())
        fields = {
            "seeds": result.seeds,
            "unresolved": result.unresolved,
            "cold_start": result.cold_start,
            "method": result.method,
        }
        head = orjson.dumps(fields)[1:-1] + b',"recommendations":'
        latest = next((seed.match for seed in reversed(result.seeds) if seed.match is not None), None)
        match = latest if latest is not None else Match(None, None, result.method, 0.0)
        query = next((seed.movie for seed in reversed(seeds) if seed.movie is not None), None) if result.cold_start else None
        answer = _answer(head, _listed(result.recommendations), match, self.recommender.version, result.cold_start, query)
        return answer._replace(method=str(result.method), seeds=len(seeds))

    def _compute(self, query: str | None, movie_id: int | None, k: int, filters: Filters) -> Answer:
        found, cold, row_list = self.recommender.resolve_then_rank(query, movie_id, k, filters, self._row_list)
        if cold is not None:
            head = _head(found.query, cold.match, True, [])
            return _answer(
                head, _listed(cold.recommendations), cold.match, self.recommender.version, cold_start=True, query=found.query
            )
        assert row_list is not None and found.match is not None  # not a cold start: a resolved row, ranked
        head = _head(found.query, found.match, False, self.recommender.alternatives(found.others))
        return _answer(head, row_list, found.match, self.recommender.version, cold_start=False, query=None)

    def _row_list(self, row: int, k: int, filters: Filters) -> Listed:
        if self.lists is not None and k == self.lists.k and filters == NO_FILTERS:
            return self._precomputed(row)
        return self._similar(row, k, filters)

    def _rank(self, row: int, k: int, filters: Filters) -> Listed:
        return _listed(self.recommender.similar(row, k, filters))

    def _read_precomputed(self, row: int) -> Listed:
        assert self.lists is not None  # asked for rows of the precomputed lists only
        ranked = self.lists.get(row)
        return Listed(ranked, encode_movies([item["id"] for item in orjson.loads(ranked.body)]))


def _listed(recommendations: list[Recommendation]) -> Listed:
    return Listed(ranked(recommendations), encode_movies([item.id for item in recommendations]))


def _raw_size(key: tuple[bytes], value: tuple[Answer, int]) -> int:
    answer = value[0]
    # one movie's list is shared with its row (counted in `_similar`); a history's is its own
    return len(key[0]) + len(answer.head) + (len(answer.recommendations) + len(answer.cited) if answer.seeds else 0)


def _answer_size(key: tuple[str | None, int | None, int, Filters], value: Answer) -> int:
    query, _, _, filters = key
    return (
        len(query or "") + EXCLUDED_ID_BYTES * len(filters.exclude) + len(value.head) + len(value.query or "") + len(value.cited)
    )


def _list_size(key: tuple[int, int, Filters], value: Listed) -> int:
    return EXCLUDED_ID_BYTES * len(key[2].exclude) + len(value.ranked.body) + 8 * len(value.ranked.scores) + len(value.movies)


def _precomputed_size(key: tuple[int], value: Listed) -> int:
    return len(value.ranked.body) + 8 * len(value.ranked.scores) + len(value.movies)


def response_body(request_id: str, model_version: str, answer: Answer) -> bytes:
    """`{"request_id": ..., "model_version": ..., <the cached answer>}` without re-serialising it."""
    ids = b'{"request_id":' + orjson.dumps(request_id) + b',"model_version":' + orjson.dumps(model_version) + b","
    return ids + answer.head + answer.recommendations + b"}"


def _head(query: str, match: Match, cold_start: bool, alternatives: list[dict[str, Any]]) -> bytes:
    """The fields before `recommendations`, in the order of `RecommendResult`."""
    fields = orjson.dumps({"query": query, "match": match, "cold_start": cold_start, "alternatives": alternatives})
    return fields[1:-1] + b',"recommendations":'


def _answer(head: bytes, listed: Listed, match: Match, version: str, cold_start: bool, query: str | None) -> Answer:
    ranked, scores = listed.ranked, listed.ranked.scores
    similar = bool(scores) and match.method != MatchMethod.popular  # popularity answers carry no similarity
    return Answer(
        head=head,
        recommendations=ranked.body,
        method=str(match.method),  # the word itself: events and metrics keep plain strings
        match_id=match.id,
        cold_start=cold_start,
        returned=len(scores),
        top1_similarity=scores[0] if similar else None,
        mean_similarity=sum(scores) / len(scores) if similar else None,
        query=query,
        cited=f"{version}.{listed.movies}",
    )
