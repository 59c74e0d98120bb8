"""Typed records of what the services leave in the storage root for each other: the
registry's lifecycle events, the agent's decisions, the API's request and feedback events,
the running experiment, and the closed sets of words they use (`Event`, `TickVerdict`,
`Result`). A version's manifest has its own module, `manifest`.

Reading each file through one model replaces `.get("kind", "?")` spread over the code, and
says in one place what an older file may lack. Unknown fields are kept (a newer writer's
additions survive a read by an older reader).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from movie_r.storage import journal


class Event(StrEnum):
    """What happened to a version, one line of `models/registry.jsonl` each (`lineage` says more)."""

    TRAINED = "trained"
    EVALUATED = "evaluated"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    RESTORED = "restored"
    ROLLED_BACK = "rolled_back"  # what older logs call `restored`; read the same way
    REMOVED = "removed"
    FAILED = "failed"
    EXPERIMENT_STARTED = "experiment_started"  # `version` is the candidate, `previous` the champion
    EXPERIMENT_ENDED = "experiment_ended"
    WATCH_ENDED = "watch_ended"  # the watch after a promotion looked: `result` held or regressed


class TickVerdict(StrEnum):
    """What one tick of the agent decided (`Decision.verdict`)."""

    SKIPPED = "skipped"  # another trainer held the lock
    BACKING_OFF = "backing off"  # the same inputs failed recently
    DATA_REJECTED = "data rejected"
    FIRST_CHAMPION = "first champion"
    EXPERIMENT = "experiment"  # an online experiment runs: where it stands, or how it ended
    ONLINE_REGRESSION = "online regression"  # clicks fell after a promotion: the previous champion is back
    NO_RETRAIN = "no retrain"
    RETRAIN = "retrain"
    FAILED = "failed"
    ABANDONED = "abandoned"  # stopped before it finished


class Result(StrEnum):
    """What a tick that trained came to (`Outcome.result`)."""

    PROMOTED = "promoted"
    REJECTED = "rejected"
    EXPERIMENT = "experiment"  # passed the offline gate; now serving beside the champion online
    STOPPED = "stopped"  # an experiment ended with neither promotion nor rejection
    FAILED = "failed"
    ABANDONED = "abandoned"


class OnlineMode(StrEnum):
    """How a challenger that passed the offline gate meets traffic before it is trusted."""

    OFF = "off"  # promoted at once, on offline evidence alone
    INTERLEAVE = "interleave"  # team-draft interleaved lists, credit per click
    AB = "ab"  # clients split by a hash of their pseudonymous id


class ExperimentRule(BaseModel):
    """The stopping rule an experiment was started with (`lifecycle.sequential`)."""

    alpha: float
    power: float
    min_effect: float
    max_impressions: int
    max_hours: float
    quiet_minutes: float  # no feedback at all in this first window: end with the offline verdict


class Experiment(BaseModel):
    """`models/experiment.json`: the online experiment running now, if any.

    Written by the trainer that started it (under the trainer lock), read by every API
    replica (which serve `candidate` beside `champion`) and by the agent, which ends it.
    """

    model_config = ConfigDict(extra="allow")

    id: str
    mode: OnlineMode
    champion: str
    candidate: str
    started_at: datetime
    started_by: str  # "agent" after the offline gate, or "operator" (`movie-r experiment start`)
    rule: ExperimentRule
    offline_reasons: list[str] = []  # why the offline gate passed (or that an operator skipped it)


class RegistryEvent(BaseModel):
    """One line of `models/registry.jsonl` (`lineage` lists the events and what they mean).

    The fields every reader relies on are typed; an event's further details (scores, the
    reasons of a verdict) stay as extra fields, written and read back as they are.
    """

    model_config = ConfigDict(extra="allow")

    time: datetime
    event: Event
    version: str | None = None  # None: a training that failed before there was a version
    previous: str | None = None  # promoted / restored: the champion it replaced
    reason: str | None = None
    kind: str | None = None
    score: float | None = None
    score_name: str | None = None
    data_key: str | None = None  # rejected: the data the challenger was judged on (the agent's cooldown)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class TriggerRecord(BaseModel):
    """One trigger of a tick: its value against its threshold, and what that means."""

    model_config = ConfigDict(extra="allow")

    name: str
    enabled: bool = True
    fired: bool = False
    value: Any = None
    threshold: Any = None
    reason: str = ""


class Outcome(BaseModel):
    """What a tick that trained came to."""

    model_config = ConfigDict(extra="allow")

    result: Result
    challenger: str | None = None
    candidate: str | None = None  # which challenger configuration won the tick's pool
    score: float | None = None
    scores: dict[str, Any] | None = None  # score_name, challenger, champion
    difference_ci: list[float] | None = None
    reasons: list[str] = []
    error: str | None = None
    report: str | None = None
    removed_versions: list[str] = []


FAILED_VERDICTS = frozenset({TickVerdict.FAILED, TickVerdict.DATA_REJECTED})


class FeedbackStats(BaseModel):
    """Feedback of one window counted: by action, and the share of dislikes among the actions that judge."""

    total: int = 0  # actions that judge an answer (a click judges nothing)
    by_action: dict[str, int] = {}
    negative_share: float = 0.0


class Decision(BaseModel):
    """One line of `reports/decisions.jsonl`: a tick, its triggers, its verdict and its outcome."""

    model_config = ConfigDict(extra="allow")

    time: datetime | None = None
    verdict: TickVerdict | None = None  # None only while a tick is deciding; every written line has one
    forced: bool = False
    champion: str | None = None
    inputs_key: str | None = None  # the training inputs it judged (`backoff` counts failures per key)
    inputs: dict[str, Any] = {}
    triggers: list[TriggerRecord] = []
    reasons: list[str] = []
    outcome: Outcome | None = None
    restored: dict[str, Any] | None = None  # the registry event, when a broken or regressed champion was replaced
    cleaned: list[str] = []  # half-written versions of an interrupted trainer, removed

    def settle(self, verdict: TickVerdict, reasons: list[str], outcome: Outcome | None = None) -> None:
        """The tick's verdict and why; its outcome where it trained."""
        self.verdict, self.reasons = verdict, reasons
        if outcome is not None:
            self.outcome = outcome

    def to_json(self) -> dict[str, Any]:
        """The line as written to `reports/decisions.jsonl`."""
        return self.model_dump(mode="json")

    @property
    def failed(self) -> bool:
        return self.verdict in FAILED_VERDICTS or (self.outcome is not None and self.outcome.result == Result.FAILED)

    @property
    def error(self) -> str:
        """What went wrong, in one line: the outcome's error, else the reasons."""
        if self.outcome is not None and self.outcome.error:
            return self.outcome.error
        return "; ".join(self.reasons) or "no reason recorded"


class RequestEvent(BaseModel):
    """One line of `metrics/events/<host>-<pid>.jsonl`: a `/recommend` request, served or refused.

    Written by every API process, read by the agent's triggers, `movie-r metrics` and the
    training data's feedback pairs (`match_id` is what a liked recommendation was like).
    """

    model_config = ConfigDict(extra="allow")

    ts: float | None = None  # seconds since the epoch; older events carry only `time`
    time: datetime | None = None
    endpoint: str = "recommend"
    request_id: str | None = None
    model_version: str | None = None  # None: no model answered (no champion, or refused early)
    latency_ms: float | None = None
    status: int = 200
    method: str | None = None  # exact | fuzzy | text | popular
    match_id: int | None = None
    cold_start: bool = False
    k: int | str | None = None  # a refused request keeps what was sent
    returned: int | None = None
    top1_similarity: float | None = None
    mean_similarity: float | None = None
    query: str | None = None
    seeds: int | None = None  # a history's seeds (`match_id`: its latest resolved one); None for one movie
    experiment: str | None = None  # the online experiment this answer took part in
    arm: str | None = None  # ab: champion | candidate, the model that answered
    movies: list[int] | None = None  # interleave: the answer's movies, in order ...
    teams: list[str] | None = None  # ... and the model that drafted each (`interleaving.Team`)

    @property
    def timestamp(self) -> float:
        if self.ts is not None:
            return self.ts
        return self.time.timestamp() if self.time is not None else 0.0


class FeedbackEvent(BaseModel):
    """One line of `metrics/feedback/<host>-<pid>.jsonl`: what a user did with a recommendation."""

    model_config = ConfigDict(extra="allow")

    time: datetime
    request_id: str
    movie_id: int
    action: str  # like | dislike | watched (api.schemas.Action)
    model_version: str | None = None
    source: str = "unknown"  # the client, keyed (RequestIds.source): no address is stored

    @property
    def timestamp(self) -> float:
        return self.time.timestamp()


class UnknownQuery(BaseModel):
    query: str
    count: int


class Summary(BaseModel):
    """`metrics/summary.json`, and what the agent's triggers judge: the API's traffic in a window."""

    model_config = ConfigDict(extra="allow")

    generated_at: datetime | None = None
    window_hours: float = 24.0
    window_start: datetime | None = None
    only_version: str | None = None  # only requests this version answered (the champion being judged)
    requests: int = 0
    served: int = 0
    errors: int = 0
    cold_starts: int = 0
    cold_start_rate: float = 0.0
    methods: dict[str, int] = {}
    mean_similarity: float | None = None
    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    top_unknown_queries: list[UnknownQuery] = []  # cold starts no catalogue title resembles: what it lacks
    top_failed_resolutions: list[UnknownQuery] = []  # cold starts a catalogue title contains: resolution missed
    model_versions: dict[str, int] = {}
    champion_version: str | None = None
    last_retrain_at: datetime | None = None
    hours_since_retrain: float | None = None


Record = TypeVar("Record", bound=BaseModel)


def validated(raw: Iterable[dict[str, Any]], record: type[Record]) -> tuple[list[Record], int]:
    """The dicts of a JSON-lines file (`journal.read_records`) as `record`s, and how many were not one."""
    found, skipped = [], 0
    for item in raw:
        try:
            found.append(record.model_validate(item))
        except ValidationError:
            skipped += 1
    return found, skipped


def read_file(path: Path, record: type[Record]) -> list[Record]:
    """Every `record` of the JSON-lines file at `path`, oldest first (none when it does not exist)."""
    return validated(journal.read_records(path).records, record)[0]
