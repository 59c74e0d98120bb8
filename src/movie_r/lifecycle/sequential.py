"""When an online experiment has seen enough: Wald's sequential probability ratio test on a preference.

Each decided impression (one side's picks clicked more) is a win for the candidate or for the
champion; ties carry no preference and are counted, not tested. Under "no difference" a win
is a fair coin. Two one-sided SPRTs, each at alpha/2, test it against the candidate winning
with probability 1/2 + `min_effect` and against it losing with that probability:

    llr_better = wins * log(2 p1) + losses * log(2 (1 - p1)),  p1 = 1/2 + min_effect
    llr_worse  = the same with wins and losses exchanged

One reaching log(2 / alpha) decides for its side; both falling to log(beta / (1 - alpha/2))
decide "no difference of min_effect" (the offline verdict stands). Under no difference each
likelihood ratio is a martingale, so by Ville's inequality it ever reaches 2/alpha with
probability at most alpha/2, however often it is looked at. That is the point: a fixed-sample
test read after every impression declares winners between two copies of one model, and even
Wald's approximate bound log((1 - beta) / (alpha/2)) lets through more than alpha. A test that
reaches `max_impressions` undecided ends the same way as "no difference".

The same rule judges an A/B split, on pairs of impressions (one of each arm, in arrival
order): a pair where only one arm's impression was clicked is a win for that arm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

Z95 = 1.959963984540054


class Standing(StrEnum):
    CONTINUE = "continue"
    CANDIDATE_BETTER = "candidate better"
    CANDIDATE_WORSE = "candidate worse"
    NO_DIFFERENCE = "no difference"  # evidence against an effect of min_effect
    UNDECIDED = "undecided"  # max_impressions reached first


@dataclass(frozen=True)
class StoppingRule:
    """alpha: chance of declaring either winner when there is no difference; power: chance of
    declaring the better side when it wins `1/2 + min_effect` of decided impressions."""

    alpha: float = 0.05
    power: float = 0.8
    min_effect: float = 0.05
    max_impressions: int = 20_000

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1 or not 0 < self.power < 1 or not 0 < self.min_effect < 0.5:
            raise ValueError("alpha and power lie in (0, 1), min_effect in (0, 0.5)")

    @property
    def upper(self) -> float:
        """The log-likelihood ratio at which one side wins."""
        return math.log(2 / self.alpha)

    @property
    def lower(self) -> float:
        """The log-likelihood ratio both tests must fall to for "no difference"."""
        return math.log((1 - self.power) / (1 - self.alpha / 2))


@dataclass(frozen=True)
class Judgement:
    """Where an experiment stands: counts, both statistics against their boundaries, the effect."""

    wins: int  # decided impressions the candidate won
    losses: int  # decided impressions the champion won
    ties: int
    llr_better: float
    llr_worse: float
    upper: float
    lower: float
    effect: float | None  # the candidate's share of decided impressions, minus 1/2
    interval: tuple[float, float] | None  # 95 % Wilson interval of that effect
    standing: Standing
    impressions_left: int | None  # a rough estimate at the current effect; None when it cannot tell

    @property
    def impressions(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def decided(self) -> bool:
        return self.standing is not Standing.CONTINUE


def judge(wins: int, losses: int, ties: int, rule: StoppingRule) -> Judgement:
    """The SPRT's standing after these counts."""
    p1 = 0.5 + rule.min_effect
    up, down = math.log(2 * p1), math.log(2 * (1 - p1))
    llr_better = wins * up + losses * down
    llr_worse = losses * up + wins * down
    impressions = wins + losses + ties
    if llr_better >= rule.upper:
        standing = Standing.CANDIDATE_BETTER
    elif llr_worse >= rule.upper:
        standing = Standing.CANDIDATE_WORSE
    elif llr_better <= rule.lower and llr_worse <= rule.lower:
        standing = Standing.NO_DIFFERENCE
    elif impressions >= rule.max_impressions:
        standing = Standing.UNDECIDED
    else:
        standing = Standing.CONTINUE
    effect, interval = _effect(wins, losses)
    left = None if standing is not Standing.CONTINUE else _impressions_left(wins, losses, ties, llr_better, llr_worse, rule)
    return Judgement(wins, losses, ties, llr_better, llr_worse, rule.upper, rule.lower, effect, interval, standing, left)


def paired_wins(clicks_candidate: list[bool], clicks_champion: list[bool]) -> tuple[int, int, int]:
    """(wins, losses, ties) of the candidate's arm over pairs of impressions in arrival order."""
    wins = losses = ties = 0
    for candidate, champion in zip(clicks_candidate, clicks_champion, strict=False):
        if candidate == champion:
            ties += 1
        elif candidate:
            wins += 1
        else:
            losses += 1
    return wins, losses, ties


def _effect(wins: int, losses: int) -> tuple[float | None, tuple[float, float] | None]:
    n = wins + losses
    if n == 0:
        return None, None
    share = wins / n
    centre = (share + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(share * (1 - share) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return share - 0.5, (centre - half - 0.5, centre + half - 0.5)


def _impressions_left(wins: int, losses: int, ties: int, llr_better: float, llr_worse: float, rule: StoppingRule) -> int | None:
    """Impressions until the nearer boundary if the observed shares held, capped by the maximum."""
    decided, impressions = wins + losses, wins + losses + ties
    cap = rule.max_impressions - impressions
    if decided == 0:
        return None
    share, decisive = wins / decided, decided / impressions
    p1 = 0.5 + rule.min_effect
    up, down = math.log(2 * p1), math.log(2 * (1 - p1))
    drifts = {
        "better": share * up + (1 - share) * down,
        "worse": (1 - share) * up + share * down,
    }
    steps = []
    for side, llr in (("better", llr_better), ("worse", llr_worse)):
        if drifts[side] > 0:
            steps.append((rule.upper - llr) / drifts[side])
    if drifts["better"] < 0 and drifts["worse"] < 0:  # both falling towards "no difference"
        steps.append(max((llr_better - rule.lower) / -drifts["better"], (llr_worse - rule.lower) / -drifts["worse"]))
    if not steps:
        return cap
    return int(min(cap, math.ceil(min(steps) / decisive)))
