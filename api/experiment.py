"""Serving an online experiment: the candidate answers beside the champion.

In `interleave` mode every answer is one team-draft list of both models' answers to the same
query (`movie_r.answering.interleaving`), drafted from the request id, so any replica gives
the same request the same list; the event records which model drafted each position. In `ab`
mode a client (by its pseudonymous source) always meets the same one of the two models.
Both models' answers come from their own caches: an experiment adds one lookup, one parse of
each cached list and one serialisation to a request.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from movie_r.answering.interleaving import Team, team_draft
from movie_r.errors import MovieRError
from movie_r.storage.records import Experiment, OnlineMode
from movie_r_api.answers import Answer
from movie_r_api.request_ids import encode_movies

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingExperiment:
    """The running experiment's record and its loaded candidate (a `champion.LoadedModel`)."""

    record: Experiment
    candidate: Any

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
    return _interleaved(record.id, champion, candidate, k, request_id, champion_version)


def _interleaved(experiment: str, champion: Answer, candidate: Answer, k: int, request_id: str, version: str) -> ExperimentAnswer:
    items = {Team.CHAMPION: orjson.loads(champion.recommendations), Team.CANDIDATE: orjson.loads(candidate.recommendations)}
    by_id = {team: {item["id"]: item for item in listed} for team, listed in items.items()}
    merged = team_draft(
        [item["id"] for item in items[Team.CHAMPION]], [item["id"] for item in items[Team.CANDIDATE]], k, request_id, experiment
    )
    chosen = [by_id[team][movie] for movie, team in zip(merged.movies, merged.teams, strict=True)]
    scores = [item["score"] for item in chosen if isinstance(item.get("score"), (int, float))]
    answer = champion._replace(
        recommendations=orjson.dumps(chosen),
        returned=len(chosen),
        cited=f"{version}.{encode_movies(merged.movies)}",
        top1_similarity=scores[0] if scores and champion.top1_similarity is not None else None,
        mean_similarity=sum(scores) / len(scores) if scores and champion.mean_similarity is not None else None,
    )
    event = {"experiment": experiment, "movies": list(merged.movies), "teams": list(merged.teams)}  # Team is a str
    return ExperimentAnswer(answer, version, event)
