"""The sequential test: its false-alarm rate between equals, its power, its boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from movie_r.lifecycle.sequential import Standing, StoppingRule, judge, paired_wins


def run(rule: StoppingRule, p_win: float, p_tie: float, rng: np.random.Generator) -> Standing:
    """One experiment watched after every impression, as the agent does, until it decides."""
    outcomes = rng.random(rule.max_impressions)
    wins = losses = ties = 0
    for u in outcomes:
        if u < p_tie:
            ties += 1
        elif (u - p_tie) / (1 - p_tie) < p_win:
            wins += 1
        else:
            losses += 1
        standing = judge(wins, losses, ties, rule).standing
        if standing is not Standing.CONTINUE:
            return standing
    return judge(wins, losses, ties, rule).standing


RULE = StoppingRule(alpha=0.05, power=0.8, min_effect=0.1, max_impressions=3000)


def test_between_equals_a_winner_is_declared_rarely_however_often_it_is_looked_at():
    rng = np.random.default_rng(7)
    results = [run(RULE, 0.5, 0.5, rng) for _ in range(300)]
    false_alarms = sum(r in (Standing.CANDIDATE_BETTER, Standing.CANDIDATE_WORSE) for r in results)
    # at most alpha in truth (Ville's inequality), plus two standard deviations of sampling over 300 runs;
    # a fixed-sample test read after every impression declares several times as many
    assert false_alarms <= 0.05 * len(results) + 2 * (0.05 * 0.95 * len(results)) ** 0.5


def test_a_clearly_better_candidate_is_found_and_a_worse_one_rejected():
    rng = np.random.default_rng(11)
    better = [run(RULE, 0.6, 0.5, rng) for _ in range(100)]
    worse = [run(RULE, 0.4, 0.5, rng) for _ in range(100)]
    assert better.count(Standing.CANDIDATE_BETTER) >= 75
    assert worse.count(Standing.CANDIDATE_WORSE) >= 75
    assert Standing.CANDIDATE_WORSE not in better and Standing.CANDIDATE_BETTER not in worse


def test_boundaries_and_the_effect_interval():
    rule = StoppingRule(alpha=0.05, power=0.8, min_effect=0.1)
    assert rule.upper == pytest.approx(np.log(2 / 0.05))
    assert rule.lower == pytest.approx(np.log(0.2 / 0.975))
    start = judge(0, 0, 0, rule)
    assert start.standing is Standing.CONTINUE and start.effect is None and start.impressions_left is None
    mid = judge(30, 20, 10, rule)
    assert mid.effect == pytest.approx(0.1)
    low, high = mid.interval
    assert low < 0.1 < high and high - low < 0.3
    assert mid.impressions == 60 and mid.impressions_left is not None and mid.impressions_left > 0
    assert judge(200, 100, 0, rule).standing is Standing.CANDIDATE_BETTER
    assert judge(100, 200, 0, rule).standing is Standing.CANDIDATE_WORSE
    assert judge(400, 400, 0, rule).standing is Standing.NO_DIFFERENCE


def test_the_maximum_ends_an_undecided_experiment():
    rule = StoppingRule(min_effect=0.01, max_impressions=100)
    assert judge(30, 25, 45, rule).standing is Standing.UNDECIDED


def test_a_b_pairs_count_only_discordant_pairs_as_wins():
    assert paired_wins([True, False, True, False], [False, True, True, False]) == (1, 1, 2)
    assert paired_wins([True, True, True], [False, False]) == (2, 0, 0)  # the unpaired last one waits


def test_settings_out_of_range_are_refused():
    with pytest.raises(ValueError):
        StoppingRule(min_effect=0.6)
