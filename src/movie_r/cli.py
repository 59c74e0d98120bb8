"""The `movie-r` command: train, evaluate, recommend and inspect models.

Every command runs with no arguments on the embedded default data; flags override the
environment (`MOVIE_R_*`), which overrides the defaults. Errors exit non-zero with one line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from movie_r.errors import MovieRError
from movie_r.evaluation import evaluate
from movie_r.inference import Filters, Recommender, RecommendResult
from movie_r.registry import ModelVersion, Registry, utc_now
from movie_r.settings import Settings
from movie_r.telemetry import write_summary
from movie_r.training import load_training_data, train

log = logging.getLogger("movie_r")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.handler(args)
    except MovieRError as exc:
        print(f"movie-r: error: {exc}", file=sys.stderr)
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
    data.add_argument("--interactions", type=Path, help="ratings CSV user_id,movie_id,rating[,timestamp]")
    data.add_argument("--no-interactions", action="store_true", help="ignore the default ratings")
    data.add_argument("--skip-invalid", action="store_true", help="drop unusable catalogue rows instead of failing")
    data.add_argument("--skip-unknown", action="store_true", help="drop ratings of movies not in the catalogue")

    parser = argparse.ArgumentParser(prog="movie-r", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    sub = commands.add_parser("train", parents=[common, data], help="train a model version and print its scores")
    sub.set_defaults(handler=cmd_train)

    sub = commands.add_parser("evaluate", parents=[common, data], help="score a version on the current data")
    sub.add_argument("version", nargs="?", help="version to score (default: the champion)")
    sub.set_defaults(handler=cmd_evaluate)

    sub = commands.add_parser("recommend", parents=[common], help="movies like a title, an id or a description")
    sub.add_argument("movie", nargs="?", help="a title (typos welcome) or free text")
    sub.add_argument("--id", dest="movie_id", type=int, help="a catalogue id instead of a title")
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

    sub = commands.add_parser("serve", parents=[common], help="run the inference API (uvicorn)")
    sub.add_argument("--host", help="listen address (default: $MOVIE_R_HOST or 127.0.0.1)")
    sub.add_argument("--port", type=int, help="listen port (default: $MOVIE_R_PORT or 8000)")
    sub.add_argument("--workers", type=int, help="worker processes (default: $MOVIE_R_WORKERS or 1)")
    sub.set_defaults(handler=cmd_serve)

    sub = commands.add_parser("metrics", parents=[common], help="summarise the API's runtime events")
    sub.add_argument("--window", type=float, help="hours to summarise (default: $MOVIE_R_SUMMARY_WINDOW_HOURS or 24)")
    sub.add_argument("--json", action="store_true", help="print metrics/summary.json as written")
    sub.set_defaults(handler=cmd_metrics)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment settings with command-line flags on top."""
    overrides: dict[str, Any] = {}
    if args.home:
        overrides["home"] = args.home
    if getattr(args, "catalog", None):
        overrides["catalog"] = args.catalog
    if getattr(args, "interactions", None):
        overrides["interactions"] = args.interactions
    if getattr(args, "no_interactions", False):
        overrides["interactions"] = None
    for name in ("host", "port", "workers"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    if getattr(args, "window", None) is not None:
        overrides["summary_window_hours"] = args.window
    return Settings(**overrides)


def cmd_train(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    data = load_training_data(settings.catalog, settings.interactions, args.skip_invalid, args.skip_unknown)
    result = train(settings, data)
    print(f"version {result.version.version}{' (champion)' if result.champion else ''}")
    print(f"trained in {result.version.manifest['train_seconds']:.1f}s on {len(data.catalog)} movies")
    _print_metrics(result.report.metrics, result.report.score_name, result.report.n_queries)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    version = _version(Registry(settings.models_dir), args.version)
    data = load_training_data(settings.catalog, settings.interactions, args.skip_invalid, args.skip_unknown)
    report = evaluate(Recommender(version.load(), version.version, settings.fuzzy_threshold), data.split)
    print(f"version {version.version} on {settings.catalog}")
    _print_metrics(report.metrics, report.score_name, report.n_queries)
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    version = _version(Registry(settings.models_dir), args.version)
    recommender = Recommender(version.load(), version.version, settings.fuzzy_threshold)
    filters = Filters(args.genre, args.year_min, args.year_max, frozenset(args.exclude))
    result = recommender.recommend(args.movie, args.movie_id, args.k, filters)
    if args.json:
        print(json.dumps({"model_version": version.version, **result.to_dict()}, indent=2))
    else:
        _print_result(result)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    registry = Registry(settings_from(args).models_dir)
    champion = registry.champion_version()
    versions = registry.versions()
    if not versions:
        print(f"no models in {registry.root}; run `movie-r train`")
        return 0
    print(f"{'':2}{'version':<26}{'kind':<8}{'score':<28}{'created':<26}")
    for version in versions:
        evaluation = version.manifest.get("evaluation", {})
        score = f"{evaluation.get('score_name', '?')}={evaluation.get('score', float('nan')):.4f}"
        mark = "* " if version.version == champion else "  "
        print(f"{mark}{version.version:<26}{version.manifest.get('kind', '?'):<8}{score:<28}{version.manifest.get('created_at', '')[:19]:<26}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    registry = Registry(settings.models_dir)
    print(f"home        {settings.home}")
    print(f"catalog     {settings.catalog}")
    print(f"interactions {settings.interactions or '-'}")
    print(f"versions    {len(registry.versions())}")
    champion = registry.champion()
    if champion is None:
        print("champion    none (run `movie-r train`)")
        return 0
    age = utc_now() - datetime.fromisoformat(champion.manifest["created_at"])
    evaluation = champion.manifest.get("evaluation", {})
    print(f"champion    {champion.version} ({champion.manifest.get('kind')}), {age.total_seconds() / 3600:.1f} h old")
    print(f"score       {evaluation.get('score_name')}={evaluation.get('score', float('nan')):.4f}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = settings_from(args)
    # workers are new processes that build their settings from the environment
    os.environ["MOVIE_R_HOME"] = str(settings.home.resolve())
    if settings.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="movie_r-prometheus-")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,  # every /recommend is already an event in metrics/events
        timeout_graceful_shutdown=10,
    )
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    summary = write_summary(settings.metrics_dir, Registry(settings.models_dir), settings.summary_window_hours)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"last {summary['window_hours']:g} h, written to {settings.metrics_dir / 'summary.json'}")
    for name in ("requests", "served", "errors", "cold_starts", "cold_start_rate", "mean_similarity",
                 "latency_ms_p50", "latency_ms_p95", "champion_version", "hours_since_retrain"):
        value = summary[name]
        print(f"  {name:<20}{value:.4f}" if isinstance(value, float) else f"  {name:<20}{value}")
    print(f"  {'methods':<20}{summary['methods']}")
    for unknown in summary["top_unknown_queries"]:
        print(f"  unknown query x{unknown['count']:<5} {unknown['query']!r}")
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
    if match.method in ("exact", "fuzzy"):
        print(f"{match.title} [{match.id}] ({match.method} match, score {match.score:.0f})")
    else:
        print(f"cold start: answered by {match.method} for {result.query!r}")
    for other in result.alternatives:
        print(f"  also titled so: {other['title']} ({other['year']}) [{other['id']}]")
    for rank, item in enumerate(result.recommendations, start=1):
        year = f" ({item.year})" if item.year else ""
        print(f"{rank:>3}. {item.title}{year} [{item.id}] score {item.score:.3f} — {'; '.join(item.reasons)}")



if __name__ == "__main__":
    sys.exit(main())
