"""Recommendation quality of every model kind on the default data, under the agent's protocol.

    python benchmarks/quality.py                 # three temporal cut points (about 8 minutes)
    python benchmarks/quality.py --cuts 0.2      # one

For each cut point (the latest 20 %, 30 %, 40 % of each user's positives are test), item-to-
item queries: given the movie a person liked last before the cut, what do they like after
it. Each kind is tuned on a validation split carved from the training interactions only
(`movie_r.lifecycle.tuning.tune`, as the agent and `movie-r train --model auto` do), then scored once
on the test queries. Baselines are published methods, tuned: popularity, TF-IDF, item-kNN,
EASE, RP3beta, directed next-item co-occurrence. `auto` is the kind the agent would pick
(best mean NDCG@10 over the validation folds, with coverage >= 10 % on each fold); it is
compared with the strongest baseline of the same cut by NDCG@10 ratio and a paired bootstrap
95 % interval of the difference; the target also asks the auto row for 10 % coverage on test.

Beside the ranking metrics: genre overlap@10 (share of the top 10 sharing a genre with the
query movie) and the mean popularity percentile@10 (100: the most popular movie). Beside the
tuned hybrid: its untuned preset, the hybrid with RP3beta and no genre boost (what the boost
changes), and the tuned hybrid with `novelty` 0.5 and 1 (content likeness traded for the
model's ranking).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from movie_r.answering.inference import Recommender
from movie_r.lifecycle.evaluation import evaluate, split_interactions
from movie_r.lifecycle.fitting import Candidate, TrainingData, fit_candidate, load_training_data
from movie_r.lifecycle.tuning import best_tried, tune
from movie_r.recommenders.kinds import AUTO_KINDS
from movie_r.settings import Settings
from movie_r_agents.judge import paired_bootstrap

BASELINES = [("popularity", "popularity"), ("TF-IDF", "tfidf"), ("item-kNN", "itemknn"), ("EASE", "ease"),
             ("RP3beta", "rp3beta"), ("next-item", "nextitem")]  # fmt: skip
OURS = [("hybrid", "hybrid")]
# the hybrid with RP3beta in place of item-kNN and no genre boost: what the boost gives back
RP3BETA_HYBRID = {
    "recommender__collaborative": "rp3beta", "recommender__collaborative__alpha": 0.6, "recommender__collaborative__beta": 0.1,
    "recommender__session": "session", "recommender__session__shrinkage": 50.0, "recommender__session_weight": 0.3,
    "recommender__popularity_weight": 0.25,
}  # fmt: skip
COLUMNS = ["ndcg@10", "map@10", "recall@10", "hitrate@10", "coverage", "genre_overlap@10", "popularity_pct@10"]
TARGET = 1.1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", type=float, nargs="+", default=[0.2, 0.3, 0.4], help="test fractions of each user's positives")
    args = parser.parse_args(argv)
    settings = Settings()
    data = load_training_data(settings.catalog, settings.interactions)
    if data.interactions is None:
        raise SystemExit("the quality benchmark needs interactions (MOVIE_R_INTERACTIONS)")
    verdicts = []
    for cut in args.cuts:
        verdicts.append(_cut_point(settings, dataclasses.replace(data, queries=split_interactions(data.interactions.ratings, cut)), cut))
    print("\nsummary: auto / strongest baseline on NDCG@10, per cut point")
    for cut, label, ratio, low, high, coverage in verdicts:
        meets = ratio >= TARGET and low > 0 and coverage >= settings.min_coverage
        print(f"  last {cut:.0%}: auto={label:<8} {ratio:6.3f}x  difference CI [{low:+.4f}, {high:+.4f}]  coverage {coverage:.1%}  "
              f"{'meets' if meets else 'misses'} the target ({TARGET}x, CI above 0, coverage >= {settings.min_coverage:.0%})")  # fmt: skip
    return 0


def _cut_point(settings: Settings, data: TrainingData, cut: float) -> tuple[float, str, float, float, float, float]:
    queries = data.queries.queries  # type: ignore[union-attr]
    print(f"\n## last {cut:.0%} of each user's positives as test: {len(data.catalog)} movies, {len(queries)} test queries")
    print(f"{'model':<22}" + "".join(f"{c:>18}" for c in COLUMNS) + f"{'tuning s':>10}  chosen")
    results: dict[str, Candidate] = {}
    for label, kind in BASELINES + OURS:
        started = time.perf_counter()
        results[label] = tune(settings, data, [kind])
        _row(label, results[label].report.metrics, time.perf_counter() - started, results[label])
    for label, params in (("hybrid preset", {}), ("RP3beta hybrid, no boost", RP3BETA_HYBRID)):
        started = time.perf_counter()
        tried = fit_candidate(settings, data, "hybrid", params)
        _row(label, tried.report.metrics, time.perf_counter() - started, None)
    for novelty in (0.5, 1.0):
        report = evaluate(Recommender(results["hybrid"].pipeline, "hybrid"), data.queries, novelty=novelty)
        _row(f"hybrid novelty={novelty:g}", report.metrics, 0.0, None)
    auto_label = _auto_choice(settings, results)
    auto = results[auto_label].report
    strongest = max((label for label, _ in BASELINES), key=lambda label: results[label].report.score)
    baseline = results[strongest].report
    low, high = paired_bootstrap(baseline.per_query, auto.per_query)
    ratio = auto.score / max(baseline.score, 1e-12)
    print(f"auto picks {auto_label}; strongest baseline {strongest}: {ratio:.3f}x on NDCG@10, "
          f"difference {auto.score - baseline.score:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}]")  # fmt: skip
    return cut, auto_label, ratio, low, high, auto.metrics["coverage"]


def _auto_choice(settings: Settings, results: dict[str, Candidate]) -> str:
    """The row `--model auto` would return: tuning's own pick among every auto kind's configurations."""
    label_of, tried = {}, []
    for label, candidate in results.items():
        if candidate.kind in AUTO_KINDS and candidate.selection is not None:
            for row in candidate.selection.validation:
                label_of[id(row)] = label
                tried.append(row)
    return label_of[id(best_tried(tried, settings.min_coverage))]


def _row(label: str, metrics: dict[str, float], seconds: float, candidate: Candidate | None) -> None:
    chosen = ""
    if candidate is not None and candidate.kind != "tfidf":
        chosen = str({k.removeprefix("recommender__"): v for k, v in candidate.params.items()
                      if k.startswith("recommender__") and "neighbors" not in k})  # fmt: skip
    print(f"{label:<22}" + "".join(f"{metrics.get(c, float('nan')):>18.4f}" for c in COLUMNS) + f"{seconds:>10.1f}  {chosen}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
