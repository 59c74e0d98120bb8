"""Recommendation quality of every model kind on the default data, in two steps that cannot
peek: decide on validation, then read the test cuts once.

    python benchmarks/quality.py                 # decide: validation folds only (about 6 minutes)
    python benchmarks/quality.py --test          # then read the test cuts, once (about 3 minutes)
    python benchmarks/quality.py --cuts 0.2      # one cut point (every step takes --cuts)
    python benchmarks/quality.py --history 1 3 5 # test cuts, asked with histories (decided pick)

For each cut point (the latest 20 %, 30 %, 40 % of each user's positives are test), item-to-
item queries: given the movie a person liked last before the cut, what do they like after
it. The first step sees only each cut's training part: every kind is tuned on validation
folds carved from it (`movie_r.lifecycle.tuning.tune`, as the agent and `movie-r train
--model auto` do, with the test queries removed before tuning starts), the variants below
are scored on the same folds, and `auto`'s pick is made (best mean NDCG@10 over the folds,
with coverage >= 10 % on each). It prints validation figures only and writes every decision
to `reports/quality-decisions.json`. The second step reads that file, fits each decided
configuration on the cut's training part, scores it on the test queries and prints the
tables: it decides nothing and writes nothing, so a test figure can change no choice
unless someone edits the grids after reading it, which the README forbids.

Baselines are published methods, tuned: popularity, TF-IDF, item-kNN, EASE, RP3beta,
directed next-item co-occurrence. `auto` is compared with the strongest baseline of the same
cut on test (the strongest by test: the comparison is the conservative one) by NDCG@10 ratio
and a paired bootstrap 95 % interval of the difference; the target also asks the auto row
for 10 % coverage on test.

Beside the ranking metrics: genre overlap@10 (share of the top 10 sharing a genre with the
query movie), the mean popularity percentile@10 (100: the most popular movie), and siblings@5:
for movies whose franchise siblings are in the catalogue (found by title rule,
`movie_r.data.franchises`), the share of them among the first five answers. Variants beside
the tuned hybrid, each scored on validation like the grid: its untuned preset, the hybrid
with RP3beta and no genre boost, and the hybrid with directed next-item counts as its
session signal; on test, the tuned hybrid with `novelty` 0.5 and 1 (a request's choice, not
a decision).

The title boost (issue 33: the tuned hybrid pushed a film's own sequels out of its first
answers) is decided here too, by a rule fixed before its figures were read: each cut's tuned
hybrid is scored on the same folds with every boost of `TITLE_BOOSTS`, and the boost chosen
is the largest whose mean validation NDCG@10 is within `TITLE_TOLERANCE` (2 %) of the best
of those at every cut, with coverage >= 10 % on every fold. siblings@5 is printed beside
each row (of the configuration fitted on the cut's training part: titles, not test data)
but is no part of the rule: the rule trades at most 2 % of what people liked next for
whatever likeness of titles that buys, and the figure says what it bought.

Histories: the first step also decides how a history's lists are combined (`Mixing`:
recency and fusion, grid below). For each cut, `auto`'s decided configuration is fitted on a
validation split of the training part (its users' own latest positives, as tuning's first
fold) and each mixing answers the validation queries with the user's last five positives;
the rule, fixed before any figure was read: the best mean NDCG@10 over the cuts, ties to the
earlier grid entry. The decision is written beside the others; `movie_r.answering.history.MIXING`
holds it for the service (a different value there is reported by both steps).
`--history N...` then reads the test cuts for the decided `auto` configuration only: the
same queries asked with the user's last N positives before the cut as the history (N = 1 is
the single-seed answer, through the history path), beside the single-seed row. It chooses
nothing either.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from sklearn.pipeline import Pipeline

from movie_r.answering.history import FUSIONS, MIXING, Mixing
from movie_r.answering.inference import Recommender
from movie_r.lifecycle.evaluation import HISTORY_KEPT, SIBLINGS_CUTOFF, Split, evaluate, franchise_share, split_interactions
from movie_r.lifecycle.fitting import TrainingData, fit_candidate, load_training_data
from movie_r.lifecycle.tuning import best_tried, tune
from movie_r.recommenders.kinds import AUTO_KINDS
from movie_r.recommenders.pipeline import json_params, restore_params
from movie_r.settings import Settings
from movie_r.storage.manifest import TriedConfiguration
from movie_r_agents.judge import paired_bootstrap

BASELINES = [("popularity", "popularity"), ("TF-IDF", "tfidf"), ("item-kNN", "itemknn"), ("EASE", "ease"),
             ("RP3beta", "rp3beta"), ("next-item", "nextitem")]  # fmt: skip
OURS = [("hybrid", "hybrid")]
# single hybrid configurations scored on validation beside the tuned grid
VARIANTS: dict[str, dict[str, Any]] = {
    "hybrid preset": {},
    # RP3beta in place of item-kNN and no genre boost: what the grid's boost changes
    "RP3beta hybrid, no boost": {
        "recommender__collaborative": "rp3beta", "recommender__collaborative__alpha": 0.6, "recommender__collaborative__beta": 0.1,
        "recommender__session": "session", "recommender__session__shrinkage": 50.0, "recommender__session_weight": 0.3,
        "recommender__popularity_weight": 0.25,
    },
    # the directed "liked soon after" counts as the session signal, at the weight the session signal has in the preset
    "hybrid, next-item session": {
        "recommender__session": "nextitem", "recommender__session__window": 20, "recommender__session__decay": 0.95,
        "recommender__session__damping": 0.1, "recommender__session_weight": 0.5,
    },
}  # fmt: skip
MIXINGS = [Mixing(recency, fusion) for fusion in FUSIONS for recency in (0.5, 0.65, 0.8, 0.9, 1.0)]
# title boosts tried on each cut's tuned hybrid, and the rule's tolerance (module doc)
TITLE_BOOSTS = (0.0, 0.25, 0.5, 1.0, 2.0)
TITLE_TOLERANCE = 0.02
COLUMNS = ["ndcg@10", "map@10", "recall@10", "hitrate@10", "coverage", "genre_overlap@10", "popularity_pct@10", f"siblings@{SIBLINGS_CUTOFF}"]
VALIDATION_COLUMNS = ["ndcg@10", "recall@10", "coverage", "genre_overlap@10"]
TARGET = 1.1
SIBLINGS = f"siblings@{SIBLINGS_CUTOFF}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", type=float, nargs="+", default=[0.2, 0.3, 0.4], help="test fractions of each user's positives")
    parser.add_argument("--test", action="store_true", help="read the test cuts once, with the decisions the first step wrote")
    parser.add_argument("--decisions", type=Path, default=None, help="decisions file (default <home>/reports/quality-decisions.json)")
    parser.add_argument("--history", type=int, nargs="+", metavar="N", choices=range(1, HISTORY_KEPT + 1),
                        help=f"read the test cuts asking with each user's last N positives (1..{HISTORY_KEPT}), decided pick only")  # fmt: skip
    args = parser.parse_args(argv)
    settings = Settings()
    decisions = args.decisions or settings.reports_dir / "quality-decisions.json"
    data = load_training_data(settings.catalog, settings.interactions)
    if data.interactions is None:
        raise SystemExit("the quality benchmark needs interactions (MOVIE_R_INTERACTIONS)")
    cuts = {cut: dataclasses.replace(data, queries=split_interactions(data.interactions.ratings, cut)) for cut in args.cuts}
    if args.history:
        return _histories(settings, cuts, decisions, args.history)
    return _test(settings, cuts, decisions) if args.test else _decide(settings, cuts, decisions)


def _decide(settings: Settings, cuts: dict[float, TrainingData], decisions: Path) -> int:
    """Every choice, on validation folds of each cut's training part: the test queries are
    dropped before tuning sees the data."""
    decided: dict[str, Any] = {}
    for cut, data in cuts.items():
        blind = dataclasses.replace(data, queries=Split(data.queries.train, []))  # type: ignore[union-attr]
        print(f"\n## last {cut:.0%} held out (not read here): validation folds of the training part")
        print(f"{'model':<26}" + "".join(f"{c:>18}" for c in VALIDATION_COLUMNS) + f"{SIBLINGS:>12}{'tuning s':>10}  chosen")
        rows: dict[str, dict[str, Any]] = {}
        picks: dict[str, TriedConfiguration] = {}  # each kind's pick, for auto's choice among them
        for label, kind in BASELINES + OURS:
            started = time.perf_counter()
            tuned = tune(settings, blind, [kind])
            assert tuned.selection is not None  # interactions: tuned
            picks[label] = best_tried(tuned.selection.validation, settings.min_coverage)
            rows[label] = _decision(kind, picks[label], time.perf_counter() - started, tuned.pipeline)
        title_variants = {_title_label(boost): {**restore_params(picks["hybrid"].params), "recommender__title_boost": boost}
                          for boost in TITLE_BOOSTS}  # fmt: skip
        for label, params in {**VARIANTS, **title_variants}.items():
            started = time.perf_counter()
            tuned = tune(settings, blind, ["hybrid"], {"hybrid": [params]})
            assert tuned.selection is not None
            rows[label] = _decision("hybrid", tuned.selection.validation[0], time.perf_counter() - started, tuned.pipeline)
        candidates = [label for label, kind in BASELINES + OURS if kind in AUTO_KINDS]
        best = best_tried([picks[label] for label in candidates], settings.min_coverage)  # tuning's own rule across kinds
        auto = next(label for label in candidates if picks[label] is best)
        for label, row in rows.items():
            print(f"{label:<26}" + "".join(f"{row['validation'].get(c, float('nan')):>18.4f}" for c in VALIDATION_COLUMNS)
                  + f"{row[SIBLINGS]:>12.4f}{row['seconds']:>10.1f}  {_chosen(row['params'])}")  # fmt: skip
        best_variant = max(VARIANTS, key=lambda label: rows[label]["validation"]["ndcg@10"])
        print(f"auto picks {auto} on validation; the best variant, {best_variant}, scores "
              f"{rows[best_variant]['validation']['ndcg@10']:.4f} against the tuned hybrid's {rows['hybrid']['validation']['ndcg@10']:.4f}")  # fmt: skip
        decided[f"{cut:g}"] = {"auto": auto, "rows": rows, "mixings": _score_mixings(settings, blind, rows[auto])}
    title_boost = _title_boost_rule(decided, settings.min_coverage)
    print(f"\ntitle boost: {title_boost:g}, the largest of {', '.join(f'{b:g}' for b in TITLE_BOOSTS)} whose mean validation "
          f"NDCG@10 is within {TITLE_TOLERANCE:.0%} of the best of them at every cut, covering >= {settings.min_coverage:.0%} on every fold")  # fmt: skip
    means = [sum(decided[cut]["mixings"][i] for cut in decided) / len(decided) for i in range(len(MIXINGS))]
    mixing = MIXINGS[max(range(len(MIXINGS)), key=lambda i: (means[i], -i))]
    print(f"\nhistories of {HISTORY_KEPT}, mean validation NDCG@10 over the cuts: "
          + ", ".join(f"{m.fusion} {m.recency:g}: {mean:.4f}" for m, mean in zip(MIXINGS, means, strict=True)))  # fmt: skip
    print(f"decided mixing: {mixing}" + ("" if mixing == MIXING else f"; the service holds {MIXING}: set history.MIXING to it"))
    decisions.parent.mkdir(parents=True, exist_ok=True)
    record = {"cuts": decided, "title_boost": title_boost, "mixing": dataclasses.asdict(mixing)}
    decisions.write_text(json.dumps(record, indent=1, sort_keys=True))
    print(f"\ndecisions written to {decisions} (sha256 {_digest(decisions)}); read the test cuts once with --test")
    return 0


def _score_mixings(settings: Settings, blind: TrainingData, row: dict[str, Any]) -> list[float]:
    """Validation NDCG@10 of histories of `HISTORY_KEPT` under each of `MIXINGS`, for the decided configuration."""
    validation = split_interactions(blind.queries.train)  # type: ignore[union-attr]  # the training part's own latest positives
    fitted = fit_candidate(settings, dataclasses.replace(blind, queries=validation), row["kind"], restore_params(row["params"]))
    recommender = Recommender(fitted.pipeline, "validation")
    scores = [evaluate(recommender, validation, history=HISTORY_KEPT, mixing=mixing).score for mixing in MIXINGS]
    print(f"histories of {HISTORY_KEPT} on validation ({len(validation.queries)} queries; one seed {fitted.report.score:.4f}): "
          + ", ".join(f"{m.fusion} {m.recency:g} {score:.4f}" for m, score in zip(MIXINGS, scores, strict=True)))  # fmt: skip
    return scores


def _decision(kind: str, tried: TriedConfiguration, seconds: float, pipeline: Pipeline) -> dict[str, Any]:
    """One row's decision; siblings@5 of `pipeline`, the configuration fitted on the cut's
    training part (titles decide who is a sibling, not test queries)."""
    return {"kind": kind, "params": json_params(tried.params), "validation": tried.metrics,
            "lowest_coverage": tried.lowest_coverage, "seconds": seconds,
            SIBLINGS: franchise_share(Recommender(pipeline, "benchmark"))}  # fmt: skip


def _title_label(boost: float) -> str:
    return f"tuned, title_boost={boost:g}"


def _title_boost_rule(decided: dict[str, Any], min_coverage: float) -> float:
    """The rule of the module doc: the largest of `TITLE_BOOSTS` whose mean validation NDCG@10
    is within `TITLE_TOLERANCE` of the best of them at every cut and covers `min_coverage` on
    every fold (0 when none does)."""

    def allowed(boost: float, rows: dict[str, Any]) -> bool:
        best = max(rows[_title_label(b)]["validation"]["ndcg@10"] for b in TITLE_BOOSTS)
        row = rows[_title_label(boost)]
        return row["validation"]["ndcg@10"] >= (1 - TITLE_TOLERANCE) * best and row["lowest_coverage"] >= min_coverage

    return max((b for b in TITLE_BOOSTS if all(allowed(b, cut["rows"]) for cut in decided.values())), default=0.0)


def _test(settings: Settings, cuts: dict[float, TrainingData], decisions: Path) -> int:
    """The decided configurations, each fitted on a cut's training part and scored on its test
    queries once. Nothing here chooses: the rows, the auto pick and the grids come from the file."""
    decided = _decided(decisions, cuts)
    verdicts = [_test_cut(settings, data, cut, decided[f"{cut:g}"]) for cut, data in cuts.items()]
    print("\nsummary: auto / strongest baseline on NDCG@10, per cut point")
    for cut, label, ratio, low, high, coverage in verdicts:
        meets = ratio >= TARGET and low > 0 and coverage >= settings.min_coverage
        print(f"  last {cut:.0%}: auto={label:<8} {ratio:6.3f}x  difference CI [{low:+.4f}, {high:+.4f}]  coverage {coverage:.1%}  "
              f"{'meets' if meets else 'misses'} the target ({TARGET}x, CI above 0, coverage >= {settings.min_coverage:.0%})")  # fmt: skip
    return 0


def _test_cut(settings: Settings, data: TrainingData, cut: float, decided: dict[str, Any]) -> tuple[float, str, float, float, float, float]:
    queries = data.queries.queries  # type: ignore[union-attr]
    print(f"\n## last {cut:.0%} of each user's positives as test: {len(data.catalog)} movies, {len(queries)} test queries")
    print(f"{'model':<26}" + "".join(f"{c:>18}" for c in COLUMNS) + f"{'fit s':>10}  decided on validation")
    reports, pipelines = {}, {}
    for label, row in decided["rows"].items():
        started = time.perf_counter()
        fitted = fit_candidate(settings, data, row["kind"], restore_params(row["params"]))
        reports[label], pipelines[label] = fitted.report, fitted.pipeline
        _row(label, _looks(fitted.report.metrics, fitted.pipeline), time.perf_counter() - started, _chosen(row["params"]))
    for novelty in (0.5, 1.0):
        report = evaluate(Recommender(pipelines["hybrid"], "hybrid"), data.queries, novelty=novelty)
        _row(f"hybrid novelty={novelty:g}", report.metrics, 0.0, "")
    auto_label = decided["auto"]
    auto = reports[auto_label]
    strongest = max((label for label, _ in BASELINES), key=lambda label: reports[label].score)
    baseline = reports[strongest]
    low, high = paired_bootstrap(baseline.per_query, auto.per_query)
    ratio = auto.score / max(baseline.score, 1e-12)
    print(f"auto (decided on validation) is {auto_label}; strongest baseline on test {strongest}: {ratio:.3f}x on NDCG@10, "
          f"difference {auto.score - baseline.score:+.4f}, 95% CI [{low:+.4f}, {high:+.4f}]")  # fmt: skip
    return cut, auto_label, ratio, low, high, auto.metrics["coverage"]


def _decided(decisions: Path, cuts: dict[float, TrainingData]) -> dict[str, Any]:
    """The decisions file's choices per cut, for every cut asked about."""
    if not decisions.is_file():
        raise SystemExit(f"{decisions}: no decisions; run `python benchmarks/quality.py` (validation only) first")
    decided = json.loads(decisions.read_text())["cuts"]
    print(f"decisions {decisions} (sha256 {_digest(decisions)})")
    if missing := [f"{cut:g}" for cut in cuts if f"{cut:g}" not in decided]:
        raise SystemExit(f"{decisions}: no decisions for cut {', '.join(missing)}; decide it first")
    return decided


def _histories(settings: Settings, cuts: dict[float, TrainingData], decisions: Path, lengths: list[int]) -> int:
    """The decided pick of each cut on its test queries, asked with one seed and with histories."""
    decided = _decided(decisions, cuts)
    chosen = json.loads(decisions.read_text()).get("mixing")
    print(f"histories combined by {MIXING}" + ("" if chosen == dataclasses.asdict(MIXING) else f", not as decided ({chosen})"))
    summary = []
    for cut, data in cuts.items():
        row = decided[f"{cut:g}"]["rows"][decided[f"{cut:g}"]["auto"]]
        queries = data.queries.queries  # type: ignore[union-attr]
        print(f"\n## last {cut:.0%} as test, {len(queries)} queries: {decided[f'{cut:g}']['auto']} as decided, asked with histories")
        print(f"{'asked with':<26}" + "".join(f"{c:>18}" for c in COLUMNS[:-1]) + f"{'mean seeds':>12}")
        fitted = fit_candidate(settings, data, row["kind"], restore_params(row["params"]))
        single = fitted.report
        print(f"{'the last positive':<26}" + "".join(f"{single.metrics[c]:>18.4f}" for c in COLUMNS[:-1]) + f"{1.0:>12.2f}")
        recommender = Recommender(fitted.pipeline, "benchmark")
        for n in lengths:
            report = evaluate(recommender, data.queries, history=n)
            seeds = sum(min(n, len(query.history)) for query in queries) / max(1, len(queries))
            print(f"{f'history of {n}':<26}" + "".join(f"{report.metrics[c]:>18.4f}" for c in COLUMNS[:-1]) + f"{seeds:>12.2f}")
            low, high = paired_bootstrap(single.per_query, report.per_query)
            summary.append((cut, n, report.score / max(single.score, 1e-12), low, high))
    print("\nsummary: a history of N seeds against the single seed on NDCG@10, per cut point")
    for cut, n, ratio, low, high in summary:
        print(f"  last {cut:.0%}: history of {n}: {ratio:.3f}x the single seed, difference CI [{low:+.4f}, {high:+.4f}]")
    return 0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _looks(metrics: dict[str, float], pipeline: Pipeline) -> dict[str, float]:
    """`metrics` and the franchise measure: siblings of a film among its first five answers."""
    return {**metrics, f"siblings@{SIBLINGS_CUTOFF}": franchise_share(Recommender(pipeline, "benchmark"))}


def _chosen(params: dict[str, Any]) -> str:
    shown = {k.removeprefix("recommender__"): v for k, v in params.items() if k.startswith("recommender__") and "neighbors" not in k}
    return str(shown) if shown else str(params) if params else ""


def _row(label: str, metrics: dict[str, float], seconds: float, chosen: str) -> None:
    print(f"{label:<26}" + "".join(f"{metrics.get(c, float('nan')):>18.4f}" for c in COLUMNS) + f"{seconds:>10.1f}  {chosen}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
