"""Serving an online experiment: the candidate answers beside the champion.

In `interleave` mode every answer is one team-draft list of both models' answers to the same
query (`movie_r.answering.interleaving`), drafted from the request id, so any replica gives
the same request the same list; the event records which model drafted each position. In `ab`
mode a client (by its pseudonymous source) always meets the same one of the two models.
Both models' answers come from their own caches, and each cached list is split into its
items once (`ServingExperiment.items`): an experiment adds one lookup, one draft and one join
of serialised items to a request.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from movie_r.answering.interleaving import Team, team_draft
from movie_r.errors import MovieRError
from movie_r.storage.records import Experiment, OnlineMode
from movie_r_api.answers import Answer
from movie_r_api.lru import BoundedMemo
from movie_r_api.request_ids import encode_movies

log = logging.getLogger(__name__)

ITEM_LISTS = 4096  # split answers kept per experiment; each costs about its serialised size
ITEM_BYTES = 16 * 1024 * 1024


class Items(NamedTuple):
    """One cached answer's list, split: ids in order, each item serialised, its score, its position."""

    ids: tuple[int, ...]
    serialised: tuple[bytes, ...]
    scores: tuple[float | None, ...]
    position: dict[int, int]


def split_items(recommendations: bytes) -> Items:
    listed = orjson.loads(recommendations)
    ids = tuple(item["id"] for item in listed)
    scores = tuple(item["score"] if isinstance(item.get("score"), (int, float)) else None for item in listed)
    return Items(ids, tuple(orjson.dumps(item) for item in listed), scores, {movie: i for i, movie in enumerate(ids)})


@dataclass(frozen=True)
class ServingExperiment:
    """The running experiment's record and its loaded candidate (a `champion.LoadedModel`)."""

    record: Experiment
    candidate: Any
    # keyed by the cached answer's bytes object, whose hash Python keeps after the first lookup
    items: BoundedMemo[tuple[bytes], Items] = field(
        default_factory=lambda: BoundedMemo(split_items, ITEM_LISTS, ITEM_BYTES, lambda key, _: 2 * len(key[0])), compare=False
    )

    @property
    def id(self) -> str:
        return self.record.id


class ExperimentAnswer(NamedTuple):
    """What an experiment changes about one answer: the list, the model named, the event's fields."""

    answer: Answer
    model_version: str
    event: dict[str, Any]


def arm_of(source: str, experiment: str) -> Team:
    """A client's arm in an A/B split: half the pseudonymous sources each, stable per experiment."""
    digest = hashlib.blake2b(f"{experiment}:{source}".encode(), digest_size=8).digest()
    return Team.CANDIDATE if digest[0] & 1 else Team.CHAMPION


def in_experiment(
    experiment: ServingExperiment, champion: Answer, champion_version: str, query_string: bytes, request_id: str, source: str
) -> ExperimentAnswer | None:
    """This request's answer within the experiment; None where the candidate cannot answer it
    (the champion's answer then stands alone, outside the experiment)."""
    record = experiment.record
    if record.mode is OnlineMode.AB and arm_of(source, record.id) is Team.CHAMPION:
        return ExperimentAnswer(champion, champion_version, {"experiment": record.id, "arm": Team.CHAMPION.value})
    try:
        candidate, k = experiment.candidate.answers.for_query_string(query_string)
    except (MovieRError, ValueError) as exc:  # ValueError: pydantic's, for a query the candidate refuses
        log.debug("candidate cannot answer experiment=%s reason=%r", record.id, exc)
        return None
    if record.mode is OnlineMode.AB:
        return ExperimentAnswer(candidate, record.candidate, {"experiment": record.id, "arm": Team.CANDIDATE.value})
    return _interleaved(experiment, champion, candidate, k, request_id, champion_version)


def _interleaved(
    experiment: ServingExperiment, champion: Answer, candidate: Answer, k: int, request_id: str, version: str
) -> ExperimentAnswer:
    ours, theirs = experiment.items(champion.recommendations), experiment.items(candidate.recommendations)
    merged = team_draft(ours.ids, theirs.ids, k, request_id, experiment.id)
    serialised, scores = [], []
    for movie, team in zip(merged.movies, merged.teams, strict=True):
        items = ours if team is Team.CHAMPION else theirs
        at = items.position[movie]
        serialised.append(items.serialised[at])
        if items.scores[at] is not None:
            scores.append(items.scores[at])
    answer = champion._replace(
        recommendations=b"[" + b",".join(serialised) + b"]",
        returned=len(serialised),
        cited=f"{version}.{encode_movies(merged.movies)}",
        top1_similarity=scores[0] if scores and champion.top1_similarity is not None else None,
        mean_similarity=sum(scores) / len(scores) if scores and champion.mean_similarity is not None else None,
    )
    event = {"experiment": experiment.id, "movies": list(merged.movies), "teams": list(merged.teams)}  # Team is a str
    return ExperimentAnswer(answer, version, event)
