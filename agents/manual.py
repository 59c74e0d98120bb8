"""Changing the champion by hand (`movie-r promote`): the agent's rule, on current data."""

from __future__ import annotations

from movie_r.answering.inference import Recommender
from movie_r.errors import MovieRError
from movie_r.lifecycle.evaluation import evaluate
from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.promotion import promote, trainer_lock
from movie_r.settings import Settings
from movie_r.storage.records import RegistryEvent
from movie_r.storage.registry import Registry
from movie_r_agents.judge import decide


def promote_by_hand(settings: Settings, version: str, force: bool = False, wait: float = 0) -> RegistryEvent:
    """`movie-r promote`: the promotion rule on current data, unless `force` overrides it."""
    registry = Registry.of(settings)
    with trainer_lock(registry, wait, f"promote {version}"):
        target = registry.get(version)
        if force:
            return promote(registry, version, "promoted by hand with --force (promotion rule skipped)")
        champion = registry.champion()
        data = load_training_data(settings.catalog, settings.interactions, settings.skip_invalid, settings.skip_unknown)
        challenger_report = evaluate(Recommender(target.load(), version, settings.fuzzy_threshold), data.queries)
        champion_report = (
            evaluate(Recommender(champion.load(), champion.version, settings.fuzzy_threshold), data.queries) if champion else None
        )
        verdict = decide(settings, champion_report, challenger_report, [])
        if not verdict.promote:
            raise MovieRError("not promoted: " + "; ".join(verdict.reasons) + " (use --force to override)")
        return promote(registry, version, "promoted by hand: " + "; ".join(verdict.reasons))
