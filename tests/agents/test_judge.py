"""The promotion rule: better promoted; equal, worse or failing a guardrail rejected."""

from __future__ import annotations

import time
from typing import Any

from movie_r.answering.inference import Recommender
from movie_r.lifecycle.evaluation import EvaluationReport
from movie_r.settings import Settings
from movie_r_agents.judge import Guardrail, decide, latency_check, p95_latency_ms, paired_bootstrap

GREEN = [Guardrail("artifact", True, "ok")]


def report(per_query: list[float]) -> EvaluationReport:
    score = sum(per_query) / len(per_query)
    return EvaluationReport("interactions", "ndcg@10", score, {"ndcg@10": score}, len(per_query), per_query)


def test_a_better_challenger_is_promoted() -> None:
    verdict = decide(Settings(), report([0.1, 0.2, 0.3]), report([0.2, 0.3, 0.4]), GREEN)
    assert verdict.promote
    assert "challenger ndcg@10=0.3000 > champion 0.2000" in verdict.reasons[0]


def test_an_equal_challenger_is_rejected() -> None:
    assert not decide(Settings(), report([0.1, 0.2]), report([0.2, 0.1]), GREEN).promote


def test_a_worse_challenger_is_rejected() -> None:
    assert not decide(Settings(), report([0.3, 0.3]), report([0.1, 0.2]), GREEN).promote


def test_a_margin_must_be_cleared() -> None:
    assert not decide(Settings(promotion_margin=0.2), report([0.1, 0.2]), report([0.2, 0.3]), GREEN).promote


def test_a_failed_guardrail_blocks_a_better_challenger() -> None:
    verdict = decide(Settings(), report([0.1]), report([0.9]), [Guardrail("smoke_queries", False, "0/5 answered")])
    assert not verdict.promote
    assert "guardrail smoke_queries failed: 0/5 answered" in verdict.reasons


def test_the_strict_rule_wants_the_whole_interval_above_zero() -> None:
    noisy_champion, noisy_challenger = report([0.0, 1.0, 0.0, 1.0]), report([1.0, 0.0, 1.0, 1.0])
    assert decide(Settings(), noisy_champion, noisy_challenger, GREEN).promote
    assert not decide(Settings(require_significant=True), noisy_champion, noisy_challenger, GREEN).promote


def test_paired_bootstrap_brackets_a_consistent_improvement() -> None:
    low, high = paired_bootstrap([0.1] * 50, [0.2] * 50)
    assert abs(low - 0.1) < 1e-9 and abs(high - 0.1) < 1e-9
    low, high = paired_bootstrap([0.0, 1.0] * 25, [1.0, 0.0] * 25)
    assert low < 0 < high


def test_latency_guardrail_compares_with_the_champion() -> None:
    assert latency_check(2.0, 3.0, budget=2.0).passed
    assert not latency_check(2.0, 5.0, budget=2.0).passed


def test_latency_is_measured_per_model_on_the_same_queries(small_recommender: Recommender) -> None:
    class FiveMillisecondsSlower:
        def recommend(self, **query: Any) -> None:
            time.sleep(0.005)
            small_recommender.recommend(**query)

    queries = [{"query": "toy story"}, {"query": "space adventure with robots"}, {"movie_id": 1}]
    fast, slow = p95_latency_ms([small_recommender, FiveMillisecondsSlower()], queries)  # type: ignore[list-item]
    assert slow >= 5.0
    assert fast < slow
