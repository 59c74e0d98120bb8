"""Champion against challenger: the promotion rule, its guardrails and a paired bootstrap.

Both models are scored on the same queries of the current data; the challenger wins only
if its score is strictly higher (plus the configured margin) and every guardrail passes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from movie_r.answering.inference import Recommender
from movie_r.answering.match_method import MatchMethod
from movie_r.lifecycle.evaluation import EvaluationReport
from movie_r.settings import AgentSettings

BOOTSTRAP_SAMPLES = 1000


@dataclass(frozen=True)
class Guardrail:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reasons: list[str]
    champion_score: float | None
    challenger_score: float
    difference_ci: tuple[float, float] | None
    guardrails: list[Guardrail] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_bootstrap(champion: list[float], challenger: list[float], seed: int = 0) -> tuple[float, float]:
    """95 % interval of mean(challenger - champion), resampling the same queries for both."""
    differences = np.asarray(challenger, dtype=float) - np.asarray(champion, dtype=float)
    if differences.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, differences.size, size=(BOOTSTRAP_SAMPLES, differences.size))
    means = differences[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return (float(low), float(high))


def p95_latency_ms(models: list[Recommender], queries: list[dict[str, Any]], repeats: int = 3) -> list[float]:
    """For each model, p95 over `queries` of each query's fastest of `repeats` calls.

    The models take turns on every query, so a busy moment of the box slows them alike, and
    the fastest call is the query's own cost: single timings also caught first-call set-up
    and garbage collections, enough to fail a challenger as fast as its champion.
    Nothing is cached in the library, so every call does the work.
    """
    fastest = np.full((len(models), len(queries)), np.inf)
    for column, query in enumerate(queries):
        for _ in range(repeats):
            for row, model in enumerate(models):
                started = time.perf_counter()
                model.recommend(**query, k=10)
                fastest[row, column] = min(fastest[row, column], (time.perf_counter() - started) * 1000)
    return [float(np.percentile(timings, 95)) if len(queries) else 0.0 for timings in fastest]


def smoke_check(recommender: Recommender, titles: list[str]) -> Guardrail:
    """A few real titles must resolve exactly and come back with recommendations."""
    failures = []
    for title in titles:
        result = recommender.recommend(title, k=5)
        if result.match.method != MatchMethod.exact or not result.recommendations:
            failures.append(title)
    detail = f"{len(titles) - len(failures)}/{len(titles)} smoke queries answered" + (f"; failed: {failures}" if failures else "")
    return Guardrail("smoke_queries", not failures, detail)


def latency_check(champion_ms: float | None, challenger_ms: float, budget: float) -> Guardrail:
    if champion_ms is None:
        return Guardrail("latency", True, f"challenger p95 {challenger_ms:.2f} ms (no champion to compare)")
    allowed = champion_ms * budget
    passed = challenger_ms <= max(allowed, 1.0)  # under a millisecond, timer noise dominates
    detail = f"challenger p95 {challenger_ms:.2f} ms vs allowed {allowed:.2f} ms ({budget:g} x champion {champion_ms:.2f} ms)"
    return Guardrail("latency", passed, detail)


def decide(
    settings: AgentSettings,
    champion: EvaluationReport | None,
    challenger: EvaluationReport,
    guardrails: list[Guardrail],
) -> Verdict:
    """The promotion rule: strictly better by the margin, guardrails green, CI if required."""
    reasons = []
    ci = paired_bootstrap(champion.per_query, challenger.per_query) if champion is not None else None
    if champion is None:
        better = True
        reasons.append(f"no champion to beat; challenger {challenger.score_name}={challenger.score:.4f}")
    else:
        better = challenger.score > champion.score + settings.promotion_margin
        comparison = ">" if better else "<="
        margin = f" + margin {settings.promotion_margin:g}" if settings.promotion_margin else ""
        reasons.append(
            f"challenger {challenger.score_name}={challenger.score:.4f} {comparison} champion {champion.score:.4f}{margin}"
            f" (95% CI of the difference [{ci[0]:+.4f}, {ci[1]:+.4f}] over {challenger.n_queries} queries)"
        )
    significant = ci is None or ci[0] > 0
    if settings.require_significant and not significant:
        reasons.append("the difference is not significant (CI lower bound <= 0) and require_significant is on")
    failed = [g for g in guardrails if not g.passed]
    reasons += [f"guardrail {g.name} failed: {g.detail}" for g in failed]
    promote = better and not failed and (significant or not settings.require_significant)
    return Verdict(promote, reasons, champion.score if champion else None, challenger.score, ci, guardrails)
