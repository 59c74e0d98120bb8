"""Tuning: pick kind and parameters on validation folds carved from the training ratings
only, by successive halving over the folds, the grid points fitted in parallel workers."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import psutil
from joblib import Parallel, delayed

from movie_r.engines.engine import check_engine
from movie_r.lifecycle.evaluation import (
    CUTOFF,
    EvaluationReport,
    Split,
    fixed_sample,
    split_interactions,
)
from movie_r.lifecycle.fitting import Candidate, TrainingData, fit_candidate
from movie_r.progress import progress
from movie_r.recommenders.kinds import GRIDS, kind_params
from movie_r.recommenders.pipeline import FittedText, build_pipeline, fitted_text_of, json_params, restore_params
from movie_r.recommenders.shared_signals import SharedSignals
from movie_r.settings import Settings
from movie_r.storage.manifest import FoldScore, Selection, TriedConfiguration

log = logging.getLogger(__name__)

# Validation queries per grid point at most: every grid point answers them all, and the grid
# compares configurations whose order settles on fewer queries than a promotion needs.
TUNING_QUERIES = 5_000
# Validation horizons tuning averages over, until their queries reach TUNING_QUERIES (at most
# `settings.tune_folds` of them): one fold of a few hundred queries moves by more than
# neighbouring grid points differ, so it picked among near-equals by chance; a fold of
# thousands does not, and more folds there would only triple the cost of tuning.
VALIDATION_FRACTIONS = (0.2, 0.3, 0.4)
SCORE = f"ndcg@{CUTOFF}"

# Of the configurations scored on the first validation fold, the share also scored on the
# others (successive halving, as scikit-learn's HalvingGridSearchCV with factor 3): the
# first fold already orders the grid well enough that the best falls in its best third,
# and the other folds then decide among near-equals at a third of their cost.
PROMOTED_SHARE = 1 / 3
# Tuning samples with fewer ratings than this are tuned in this process: starting workers
# (each imports the libraries anew) costs more than their fits.
PARALLEL_MIN_RATINGS = 20_000

Configuration = tuple[str, dict[str, Any]]  # a kind and one of its grid points


def tune(
    settings: Settings, data: TrainingData, kinds: list[str], grids: dict[str, list[dict[str, Any]]] | None = None
) -> Candidate:
    """Pick kind and parameters on validation splits carved from the training interactions only.

    Every grid point of every kind is fitted on the first validation fold's training part
    and scored on its queries (one fold when it has TUNING_QUERIES queries, else up to
    `settings.tune_folds` at other horizons); the best third of them (`PROMOTED_SHARE`)
    also on the other folds. The best of those by mean NDCG@10 over the folds, among those
    whose lists cover at least `settings.min_coverage` of the catalogue on every fold, is
    refitted on all training interactions and scored on the real test queries. Grid points
    are fitted in parallel processes (`tuning_workers`), grouped so that those fitting the
    same collaborative signal on a fold fit it once. Without interactions there is nothing
    to tune: TF-IDF. `grids` replaces `GRIDS` (a benchmark scoring chosen configurations on
    validation).
    """
    check_engine(settings)  # the final fit's engine: refused now, not after the grid
    if data.train_ratings is None:
        return fit_candidate(settings, data, "tfidf")
    if not isinstance(data.queries, Split):
        raise TypeError("tuning needs interaction queries")  # train_ratings implies them
    sample, n_users = user_sample(data.queries.train, settings.tune_users)
    tuned_on = int(sample["user_id"].nunique())
    splits: list[Split] = []
    for fraction in VALIDATION_FRACTIONS[: settings.tune_folds]:
        if sum(len(split.queries) for split in splits) >= TUNING_QUERIES:
            break  # enough queries to order the grid: another fold would only cost its fits
        splits.append(split_interactions(sample, fraction, TUNING_QUERIES))
    fractions = VALIDATION_FRACTIONS[: len(splits)]
    folds = [_fold(data, split) for split in splits]
    grid: list[Configuration] = [(kind, params) for kind in kinds for params in (grids or GRIDS)[kind]]
    fitted_text: FittedText = {}  # every fold and grid point has the same catalogue
    fitted_text_of(build_pipeline(), data.catalog.movies, fitted_text)  # once, not in each worker
    workers = tuning_workers(settings, len(sample))
    first = _validate(settings, folds[:1], grid, range(len(grid)), fitted_text, workers)
    reports = {i: [report] for (_, i), report in first.items()}
    promoted = _promoted(grid, reports, settings.min_coverage) if len(folds) > 1 else list(range(len(grid)))
    later = _validate(settings, folds[1:], grid, promoted, fitted_text, workers)
    for (_, i), report in sorted(later.items()):  # fold by fold, as `_tried` pairs them with `fractions`
        reports[i].append(report)
    tried = [_tried(kind, params, fractions[: len(reports[i])], reports[i]) for i, (kind, params) in enumerate(grid)]
    for i, (kind, params) in enumerate(grid):  # in the log too, for a run that fails before it saves
        log.info("validation kind=%s params=%s %s=%s", kind, params, SCORE, [round(r.score, 4) for r in reports[i]])
    best = best_tried(tried, settings.min_coverage)  # among the promoted: they alone reached every fold
    chosen = fit_candidate(settings, data, best.kind, restore_params(best.params), fitted_text=fitted_text)
    horizons = "/".join(f"{fraction:.0%}" for fraction in fractions)
    halving = f" (the best {len(promoted)} of them on the first fold then on all)" if len(promoted) < len(grid) else ""
    reason = (
        f"{best.kind} {best.params} had the best mean validation {SCORE}={best.metrics[SCORE]:.4f} of {len(tried)} "
        f"configurations{halving}, over {len(folds)} validation fold{'s' if len(folds) > 1 else ''} (the latest {horizons} of each "
        "user's training positives), "
        f"among those whose lists cover >= {settings.min_coverage:.0%} of the catalogue on every fold"
        f", tuned on {tuned_on} of {n_users} users' ratings"
    )
    selection = Selection(reason=reason, validation=tried, tuned_on_users=tuned_on, users=n_users)
    return Candidate(chosen.kind, chosen.params, chosen.pipeline, chosen.report, chosen.train_seconds, selection)


def _fold(data: TrainingData, split: Split) -> TrainingData:
    """One validation fold as training data: the fold's training part with the feedback already
    in it (one frame every grid point of the fold shares), and no interactions object (a
    fold is sent to worker processes; the whole ratings table is not needed there)."""
    ratings = TrainingData(data.catalog, None, split, data.feedback).train_ratings
    assert ratings is not None  # a split's training part
    return TrainingData(data.catalog, None, Split(ratings, split.queries))


def _promoted(grid: list[Configuration], reports: dict[int, list[EvaluationReport]], min_coverage: float) -> list[int]:
    """The grid points scored on the other folds too: the best `PROMOTED_SHARE` on the first,
    those covering `min_coverage` there ahead of those that do not (which tuning cannot pick
    while any configuration covers enough on every fold)."""
    ranked = sorted(
        range(len(grid)), key=lambda i: (reports[i][0].metrics["coverage"] >= min_coverage, reports[i][0].score), reverse=True
    )
    return sorted(ranked[: max(1, math.ceil(len(grid) * PROMOTED_SHARE))])


def tuning_workers(settings: Settings, ratings: int) -> int:
    """Processes tuning fits grid points in: `settings.tune_jobs`, else one per core this
    process may use, as many as memory holds.

    Each worker is taken to need what this process holds now: it loads the same
    catalogue, a fold no larger than the training data, and fits the same signals. Where
    memory holds fewer, fewer workers run (one: all in this process, as with a sample
    under PARALLEL_MIN_RATINGS).
    """
    if settings.tune_jobs:
        return settings.tune_jobs
    if ratings < PARALLEL_MIN_RATINGS:
        return 1
    cores = len(os.sched_getaffinity(0))
    footprint = max(psutil.Process().memory_info().rss, 1)
    return max(1, min(cores, psutil.virtual_memory().available // footprint))


def _validate(
    settings: Settings,
    folds: list[TrainingData],
    grid: list[Configuration],
    indices: Iterable[int],
    fitted_text: FittedText,
    workers: int,
) -> dict[tuple[int, int], EvaluationReport]:
    """The report of each of the `indices` grid points on each of `folds`, by (fold, grid
    point), fitted in `workers` processes.

    Grid points that fit the same collaborative signal on a fold are one task, so its fit
    is shared (`SharedSignals`); the folds' tasks run together and the largest go first, so
    the last to finish are short and no core waits for one fold to end.
    """
    groups: dict[tuple[int, str], list[int]] = {}
    for f in range(len(folds)):
        for i in indices:
            groups.setdefault((f, _collaborative_of(*grid[i])), []).append(i)
    tasks = sorted(groups.items(), key=lambda task: len(task[1]), reverse=True)
    jobs = (delayed(_validate_group)(settings, folds[f], [grid[i] for i in task], fitted_text) for (f, _), task in tasks)
    if min(workers, len(tasks)) > 1:
        done: Iterable[list[EvaluationReport]] = Parallel(n_jobs=min(workers, len(tasks)), return_as="generator")(jobs)
    else:
        done = (function(*args, **kwargs) for function, args, kwargs in jobs)
    reports: dict[tuple[int, int], EvaluationReport] = {}
    for ((f, _), task), task_reports in zip(tasks, progress(done, total=len(tasks), desc="validation"), strict=True):
        reports.update((((f, i), report) for i, report in zip(task, task_reports, strict=True)))
    return reports


def _validate_group(
    settings: Settings, fold: TrainingData, configurations: list[Configuration], fitted_text: FittedText
) -> list[EvaluationReport]:
    """Each configuration's report on `fold`, sharing the signals they have in common."""
    shared = SharedSignals()
    return [fit_candidate(settings, fold, kind, params, True, fitted_text, shared).report for kind, params in configurations]


def _collaborative_of(kind: str, params: dict[str, Any]) -> str:
    """The collaborative signal a configuration fits, with its settings ("" for none)."""
    merged = kind_params(kind, params)
    slot = "recommender__collaborative"
    settings = sorted((name, value) for name, value in merged.items() if name.startswith(slot + "__"))
    return repr((merged.get(slot), settings)) if merged.get(slot) not in (None, "none") else ""


def best_tried(tried: list[TriedConfiguration], min_coverage: float) -> TriedConfiguration:
    """The configuration tuning picks: best mean NDCG@10 among those scored on the most folds
    (the survivors of successive halving: a mean over fewer folds is over other horizons, not
    comparable) and covering `min_coverage` of the catalogue on every fold (among all those
    when none does)."""
    most = max(len(t.folds) for t in tried)
    survivors = [t for t in tried if len(t.folds) == most]
    diverse = [t for t in survivors if t.lowest_coverage >= min_coverage] or survivors
    return max(diverse, key=lambda t: t.metrics[SCORE])


def _tried(kind: str, params: dict[str, Any], fractions: tuple[float, ...], reports: list[EvaluationReport]) -> TriedConfiguration:
    """Each metric's mean over the folds it was scored on, the lowest fold's coverage, and each fold's score."""
    means = {name: float(np.mean([r.metrics[name] for r in reports])) for name in reports[0].metrics}
    folds = [FoldScore(fraction=f, score=r.score, coverage=r.metrics["coverage"]) for f, r in zip(fractions, reports, strict=True)]
    lowest = min(fold.coverage for fold in folds)
    return TriedConfiguration(kind=kind, params=json_params(params), metrics=means, lowest_coverage=lowest, folds=folds)


def user_sample(ratings: pd.DataFrame, at_most: int, seed: int = 0) -> tuple[pd.DataFrame, int]:
    """The ratings of at most `at_most` users (a fixed random sample), and how many users there were.

    Tuning compares configurations, and their order settles on far fewer people than
    fitting needs: a grid fitted on a sample, then the winner once on everyone.
    """
    users = ratings["user_id"].unique()
    kept = fixed_sample(len(users), at_most, seed)
    return (ratings if kept is None else ratings[ratings["user_id"].isin(users[kept])]), len(users)
