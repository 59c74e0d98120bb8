"""Prometheus metrics of one app, correct with several uvicorn workers.

With `PROMETHEUS_MULTIPROC_DIR` set (as `movie-r serve --workers N` does), values live in
per-process files there and /metrics aggregates them (prometheus-client's multiprocess
mode); otherwise they live in a registry private to this app.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from movie_r.answering.match_method import MatchMethod
from movie_r.storage.agent_status import AgentStatus
from movie_r.storage.experiment_trace import ExperimentPoint
from movie_r.storage.records import Experiment

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SIMILARITY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ApiMetrics:
    """The service's counters, histograms and gauges."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        disable_created_metrics()  # `*_created` series double the output and nobody here reads them
        self.multiprocess = multiprocess_dir() is not None
        # in multiprocess mode values go to files whatever the registry; keep them out of the global one
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("movie_r_requests", "HTTP requests by endpoint and outcome", ["endpoint", "outcome"], registry=r)
        self.latency = Histogram(
            "movie_r_request_latency_seconds", "Request latency by endpoint", ["endpoint"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.cold_starts = Counter("movie_r_cold_starts", "Cold-start answers by method", ["method"], registry=r)
        self.matches = Counter("movie_r_matches", "Recommend answers by resolution method", ["method"], registry=r)
        self.similarity = Histogram(
            "movie_r_similarity_score", "Mean similarity of returned recommendations", buckets=SIMILARITY_BUCKETS, registry=r
        )
        self.model_info = Gauge(
            "movie_r_model_info", "Serving champion version (value 1)", ["version"], registry=r, multiprocess_mode="livemax"
        )
        self.model_age = Gauge(
            "movie_r_seconds_since_last_retrain", "Age of the serving champion", registry=r, multiprocess_mode="livemax"
        )
        self.reloads = Counter(
            "movie_r_model_reloads", "Champion reload attempts by result (success, failure, bad_signature)", ["result"], registry=r
        )
        self.events_dropped = Gauge(
            "movie_r_events_dropped", "Runtime events not persisted (disk full, unwritable)", registry=r, multiprocess_mode="livesum"
        )
        self.feedback = Counter("movie_r_feedback", "Feedback events by action", ["action"], registry=r)
        # the agent is another process: these mirror what it last wrote to metrics/agent.json
        self.agent_ticks = Gauge(
            "movie_r_agent_ticks", "Ticks the running agent has completed", registry=r, multiprocess_mode="livemax"
        )
        self.agent_failed_ticks = Gauge(
            "movie_r_agent_failed_ticks", "Ticks of the running agent that failed", registry=r, multiprocess_mode="livemax"
        )
        self.agent_consecutive_failures = Gauge(
            "movie_r_agent_consecutive_failures", "Failed ticks in a row (0 after a tick that did not fail)",
            registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self.agent_last_tick = Gauge(
            "movie_r_agent_last_tick_timestamp_seconds", "When the agent last finished a tick (Unix time)",
            registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self.experiment_info = Gauge(
            "movie_r_experiment_info", "The online experiment this worker serves (value 1)",
            ["experiment", "mode", "champion", "candidate"], registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self.experiment_answers = Counter(
            "movie_r_experiment_answers", "Answers served within an online experiment", ["experiment", "mode"], registry=r
        )
        # the test's standing as the agent last tallied it (metrics/experiments/<id>.jsonl), never tallied here
        self.experiment_impressions = Gauge(
            "movie_r_experiment_impressions", "Impressions served in the experiment, at the agent's last tally",
            ["experiment"], registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self.experiment_credited = Gauge(
            "movie_r_experiment_credited_clicks",
            "Clicked impressions (ab: pairs of impressions) by the side their clicks preferred: candidate, champion or tie",
            ["experiment", "side"], registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self.experiment_statistic = Gauge(
            "movie_r_experiment_statistic", "The sequential test's log-likelihood ratios: candidate better, candidate worse",
            ["experiment", "test"], registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self.experiment_boundary = Gauge(
            "movie_r_experiment_boundary", "Where a statistic decides (upper) and both decide no difference (lower)",
            ["experiment", "boundary"], registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self.experiment_left = Gauge(
            "movie_r_experiment_impressions_left", "A rough estimate of the impressions until the test decides",
            ["experiment"], registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self.experiment_tallied = Gauge(
            "movie_r_experiment_tallied_timestamp_seconds", "When the agent last tallied the experiment (Unix time)",
            ["experiment"], registry=r, multiprocess_mode="livemax",
        )  # fmt: skip
        self._version: str | None = None
        self._followed: str | None = None  # whose standing the gauges show: the running experiment, then the last one
        self._experiment: tuple[str, str, str, str] | None = None
        self._experiment_answers: tuple[tuple[str, str], Any] | None = None  # the running experiment's child
        # `labels()` validates and locks on every call; the children it returns are kept instead
        self._request_children: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._match_children = {method.value: self.matches.labels(method.value) for method in MatchMethod}
        self._cold_start_children = {method.value: self.cold_starts.labels(method.value) for method in MatchMethod}

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        children = self._request_children.get((endpoint, status))
        if children is None:
            children = self.requests.labels(endpoint, str(status)), self.latency.labels(endpoint)
            self._request_children[endpoint, status] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_answer(self, method: str, cold_start: bool, mean_similarity: float | None) -> None:
        """One /recommend answer: how its query resolved, and how similar its movies were."""
        self._match_children[method].inc()
        if cold_start:
            self._cold_start_children[method].inc()
        if mean_similarity is not None:
            self.similarity.observe(mean_similarity)

    def observe_model(self, version: str | None, trained_at: str | None) -> None:
        """Refresh the model gauges (called when /metrics is scraped)."""
        if version != self._version:
            if self._version is not None:
                self.model_info.labels(self._version).set(0)
            if version is not None:
                self.model_info.labels(version).set(1)
            self._version = version
        if trained_at:
            age = datetime.now(UTC) - datetime.fromisoformat(trained_at)
            self.model_age.set(age.total_seconds())

    def observe_experiment_answer(self, experiment: str, mode: str) -> None:
        """One answer served within an experiment; its counter child is kept, as the request ones are."""
        key = (experiment, mode)
        if self._experiment_answers is None or self._experiment_answers[0] != key:
            self._experiment_answers = key, self.experiment_answers.labels(*key)
        self._experiment_answers[1].inc()

    def observe_experiment(self, experiment: Experiment | None) -> None:
        """Refresh the experiment gauge (called when /metrics is scraped): the running one at 1, the last one at 0."""
        labels = (experiment.id, experiment.mode.value, experiment.champion, experiment.candidate) if experiment else None
        if labels != self._experiment:
            if self._experiment is not None:
                self.experiment_info.labels(*self._experiment).set(0)
            if labels is not None:
                self.experiment_info.labels(*labels).set(1)
                self._followed = labels[0]
            self._experiment = labels

    @property
    def followed_experiment(self) -> str | None:
        """The experiment whose standing to read: the one served, or the one that ended until its last point is read."""
        return self._followed

    def observe_standing(self, point: ExperimentPoint | None) -> None:
        """Refresh the test's gauges from the agent's latest point (called when /metrics is scraped).

        After the experiment ends they keep its final figures, as `movie_r_experiment_info` keeps
        its labels at 0: a series that fell to zero would read as a reset, not as an ending.
        """
        if point is None or point.experiment != self._followed:
            return
        e = point.experiment
        self.experiment_impressions.labels(e).set(point.impressions)
        for side, count in (("candidate", point.wins), ("champion", point.losses), ("tie", point.ties)):
            self.experiment_credited.labels(e, side).set(count)
        self.experiment_statistic.labels(e, "better").set(point.llr_better)
        self.experiment_statistic.labels(e, "worse").set(point.llr_worse)
        self.experiment_boundary.labels(e, "upper").set(point.upper)
        self.experiment_boundary.labels(e, "lower").set(point.lower)
        decided = point.ending is not None or point.standing != "continue"
        left = 0 if decided else math.nan if point.impressions_left is None else point.impressions_left
        self.experiment_left.labels(e).set(left)  # NaN: no decided impression yet to estimate from
        self.experiment_tallied.labels(e).set(point.time.timestamp())
        if point.ending is not None and self._experiment is None:
            self._followed = None  # its last point is shown: nothing more to read

    def observe_agent(self, status: AgentStatus | None) -> None:
        """Refresh the agent gauges from its status file (called when /metrics is scraped)."""
        if status is None:
            return
        self.agent_ticks.set(status.ticks)
        self.agent_failed_ticks.set(status.failed_ticks)
        self.agent_consecutive_failures.set(status.consecutive_failures)
        if status.last_tick_at is not None:
            self.agent_last_tick.set(status.last_tick_at.timestamp())

    def render(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
