"""The `movie-r` command: train, evaluate, recommend and inspect models.

Every command runs with no arguments on the embedded default data; flags override the
environment (`MOVIE_R_*`), which overrides the defaults. Errors exit non-zero with one line.
Commands import the library parts they use when they run: `status` and `models` answer
without loading numpy, pandas or scikit-learn at all, and `serve --workers N` starts its
workers without first loading them in the supervisor.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from movie_r.answering.match_method import MatchMethod
from movie_r.cli.keys import add_keys_parser
from movie_r.cli.options import LOG_FORMAT, log_level, settings_from
from movie_r.cli.status import cmd_models, cmd_status
from movie_r.errors import MovieRError, SettingsError
from movie_r.recommenders.kinds import KINDS

if TYPE_CHECKING:
    from movie_r.answering.history import HistoryResult
    from movie_r.answering.inference import Recommendation, RecommendResult
    from movie_r.storage.registry import ModelVersion, Registry

log = logging.getLogger("movie_r")

COMMANDS_GROUP = "movie_r.commands"  # entry points: register(subparsers, common parent parser)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=log_level(args), format=LOG_FORMAT, stream=sys.stderr)
    try:
        if getattr(args, "keys_handler", None) is not None:
            return args.keys_handler(args, settings_from(args))
        return args.handler(args)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"movie-r: error: {line}", file=sys.stderr)
        return 2
    except MovieRError as exc:
        print(f"movie-r: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a full disk, a directory it may not write: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"movie-r: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("movie-r: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", type=Path, help="storage root (default: $MOVIE_R_HOME or the repo root)")
    common.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")

    data = argparse.ArgumentParser(add_help=False)
    data.add_argument("--catalog", type=Path, help="catalogue CSV (default: the embedded MovieLens data)")
    data.add_argument(
        "--interactions", metavar="CSV",
        help="ratings CSV user_id,movie_id,rating[,timestamp] (default: the embedded ratings, with the embedded "
        "catalogue only; an empty value means none)",
    )  # fmt: skip
    data.add_argument("--no-interactions", action="store_true", help="train without ratings")
    data.add_argument(
        "--skip-invalid", action="store_true",
        help="drop unusable catalogue rows instead of failing (default: $MOVIE_R_SKIP_INVALID)",
    )  # fmt: skip
    data.add_argument(
        "--skip-unknown", action="store_true",
        help="drop ratings of movies not in the catalogue (default: $MOVIE_R_SKIP_UNKNOWN)",
    )  # fmt: skip

    parser = argparse.ArgumentParser(prog="movie-r", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    sub = commands.add_parser("train", parents=[common, data], help="train a model version and print its scores")
    sub.add_argument(
        "--model", choices=["auto", *KINDS], default="auto",
        help="model kind (default auto: with interactions, the best on a validation split; else tfidf)",
    )  # fmt: skip
    sub.add_argument(
        "--engine", choices=["local", "spark"],
        help="where the neighbour ranking runs (default: $MOVIE_R_ENGINE or local; spark needs movie-r[spark] and Java 17+)",
    )  # fmt: skip
    sub.add_argument(
        "--spark-master", metavar="URL",
        help="Spark master for --engine spark: local[N] or spark://host:7077 (default: $MOVIE_R_SPARK_MASTER or local[*])",
    )  # fmt: skip
    sub.set_defaults(handler=cmd_train)

    sub = commands.add_parser("evaluate", parents=[common, data], help="score a version on the current data")
    sub.add_argument("version", nargs="?", help="version to score (default: the champion)")
    sub.set_defaults(handler=cmd_evaluate)

    sub = commands.add_parser("recommend", parents=[common], help="movies like a title, an id or a description")
    sub.add_argument("movie", nargs="*", help="a title (typos welcome) or free text; several: a history, in the order watched")
    sub.add_argument(
        "--id", dest="movie_id", type=int, action="append", default=[], help="a catalogue id instead of a title (repeatable)"
    )
    sub.add_argument("-k", type=int, default=10, help="how many movies (1..100, default 10)")
    sub.add_argument("--genre", help="only movies of this genre")
    sub.add_argument("--year-min", type=int)
    sub.add_argument("--year-max", type=int)
    sub.add_argument("--exclude", type=int, nargs="*", default=[], help="ids never to recommend")
    sub.add_argument("--version", help="ask this version instead of the champion")
    sub.add_argument("--json", action="store_true", help="print the API's /recommend response body")
    sub.set_defaults(handler=cmd_recommend)

    sub = commands.add_parser("models", parents=[common], help="list versions with scores; mark the champion")
    sub.set_defaults(handler=cmd_models)

    sub = commands.add_parser("status", parents=[common], help="storage root, champion and its age")
    sub.set_defaults(handler=cmd_status)

    add_keys_parser(commands, common)
    for entry in entry_points(group=COMMANDS_GROUP):  # the services' own: `serve`, `agent`, ...
        entry.load()(commands, common)

    sub = commands.add_parser("metrics", parents=[common], help="summarise the API's runtime events")
    sub.add_argument("--window", type=float, help="hours to summarise (default: $MOVIE_R_SUMMARY_WINDOW_HOURS or 24)")
    sub.add_argument("--json", action="store_true", help="print metrics/summary.json as written")
    sub.set_defaults(handler=cmd_metrics)
    return parser


def cmd_train(args: argparse.Namespace) -> int:
    from movie_r.engines.engine import check_engine
    from movie_r.lifecycle.fitting import load_training_data
    from movie_r.lifecycle.training import train
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    check_engine(settings)
    data = load_training_data(
        settings.catalog, settings.interactions, settings.skip_invalid, settings.skip_unknown, settings.metrics_dir
    )
    registry = Registry.of(settings)
    with registry.trainer_lock():
        result = train(settings, data, args.model, registry=registry)
    manifest = result.version.manifest
    print(f"version {result.version.version} ({manifest.kind}){' champion' if result.champion else ''}")
    if manifest.selection:
        print(f"chosen: {manifest.selection.reason}")
    print(f"trained in {manifest.train_seconds or 0:.1f}s on {len(data.catalog)} movies")
    _print_metrics(result.report.metrics, result.report.score_name, result.report.n_queries)
    if not result.champion:
        version = result.version.version
        print(f"not served: {registry.champion_version()} stays champion. Next:")
        print(f"  movie-r promote {version}          makes it champion if it scores higher on the configured data")
        print(f"  movie-r promote {version} --force  makes it champion whatever the scores")
        if args.catalog is not None or args.interactions is not None:
            # promote, the agent and the API read MOVIE_R_*, not this command's flags
            print("  promote, the agent and the API read the settings, not this command's flags: give them")
            print(f"  MOVIE_R_CATALOG={settings.catalog} MOVIE_R_INTERACTIONS={settings.interactions or ''}")
            print("  or the agent retrains the champion on the configured data")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from movie_r.answering.inference import Recommender
    from movie_r.lifecycle.evaluation import evaluate
    from movie_r.lifecycle.fitting import load_training_data
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    version = _version(Registry.of(settings), args.version)
    data = load_training_data(settings.catalog, settings.interactions, settings.skip_invalid, settings.skip_unknown)
    report = evaluate(Recommender(version.load(), version.version, settings.fuzzy_threshold), data.queries)
    print(f"version {version.version} on {settings.catalog}")
    _print_metrics(report.metrics, report.score_name, report.n_queries)
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from movie_r.answering.history import Seed, recommend_from_history
    from movie_r.answering.inference import Filters, Recommender
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    version = _version(Registry.of(settings), args.version)
    recommender = Recommender(version.load(), version.version, settings.fuzzy_threshold)
    filters = Filters(args.genre, args.year_min, args.year_max, frozenset(args.exclude))
    seeds = [Seed(movie=title) for title in args.movie] + [Seed(movie_id=movie_id) for movie_id in args.movie_id]
    if len(seeds) > 1:
        history = recommend_from_history(recommender, seeds, args.k, filters)
        if args.json:
            print(json.dumps({"model_version": version.version, **history.to_dict()}, indent=2, default=str))
        else:
            _print_history(history)
        return 0
    single = seeds[0] if seeds else Seed()
    result = recommender.recommend(single.movie, single.movie_id, args.k, filters)
    if args.json:
        print(json.dumps({"model_version": version.version, **result.to_dict()}, indent=2))
    else:
        _print_result(result)
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from movie_r.answering.titles import TitleIndex
    from movie_r.data.loading import load_catalog
    from movie_r.lifecycle.telemetry import write_summary
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    movies = load_catalog(settings.catalog, skip_invalid=True).movies  # the catalogue operators configured
    titles = TitleIndex(movies["title"].tolist(), movies["popularity"].to_numpy())
    registry = Registry.of(settings)
    summary = write_summary(settings.metrics_dir, registry, settings.summary_window_hours, titles)
    if args.json:
        print(summary.model_dump_json(indent=2))
        return 0
    print(f"last {summary.window_hours:g} h, written to {settings.storage.metrics.summary}")
    for name in (
        "requests",
        "served",
        "errors",
        "cold_starts",
        "cold_start_rate",
        "mean_similarity",
        "latency_ms_p50",
        "latency_ms_p95",
        "champion_version",
        "hours_since_retrain",
    ):
        value = getattr(summary, name)
        print(f"  {name:<20}{value:.4f}" if isinstance(value, float) else f"  {name:<20}{value}")
    print(f"  {'methods':<20}{summary.methods}")
    for unknown in summary.top_unknown_queries:
        print(f"  not in the catalogue x{unknown.count:<5} {unknown.query!r}")
    for failed in summary.top_failed_resolutions:
        print(f"  resolution missed x{failed.count:<5} {failed.query!r} (a catalogue title contains it)")
    return 0


def _version(registry: Registry, version: str | None) -> ModelVersion:
    if version:
        return registry.get(version)
    champion = registry.champion()
    if champion is None:
        raise MovieRError(f"no champion model in {registry.root}; run `movie-r train` first")
    return champion


def _print_metrics(metrics: dict[str, float], score_name: str, n_queries: int) -> None:
    print(f"score {score_name}={metrics[score_name]:.4f} over {n_queries} queries")
    for name, value in metrics.items():
        print(f"  {name:<22}{value:.4f}")


def _print_result(result: RecommendResult) -> None:
    match = result.match
    if match.method in (MatchMethod.exact, MatchMethod.partial, MatchMethod.fuzzy):
        print(f"{match.title} [{match.id}] ({match.method} match, score {match.score:.0f})")
    else:
        print(f"cold start: answered by {match.method} for {result.query!r}")
    for other in result.alternatives:
        print(f"  also titled so: {other['title']} ({other['year']}) [{other['id']}]")
    _print_recommendations(result.recommendations)


def _print_history(result: HistoryResult) -> None:
    for seed in result.seeds:
        if seed.match is None:
            print(f"  {seed.query!r}: no such movie, left out")
        else:
            print(f"  {seed.match.title} [{seed.match.id}] ({seed.match.method} match), weight {seed.weight:.2f}")
    if result.cold_start:
        print(f"cold start: no seed resolved; answered by {result.method}")
    _print_recommendations(result.recommendations)


def _print_recommendations(recommendations: list[Recommendation]) -> None:
    for rank, item in enumerate(recommendations, start=1):
        year = f" ({item.year})" if item.year else ""
        print(f"{rank:>3}. {item.title}{year} [{item.id}] score {item.score:.3f} — {'; '.join(item.reasons)}")


if __name__ == "__main__":
    sys.exit(main())
