"""`movie-r experiment`: start, watch and end the online experiment by hand."""

from __future__ import annotations

import argparse
import json
from typing import Any

from movie_r.cli.options import settings_from
from movie_r.errors import MovieRError


def register(commands: Any, common: argparse.ArgumentParser, wait: argparse.ArgumentParser) -> None:
    sub = commands.add_parser("experiment", parents=[common], help="the online experiment: start, status, stop, promote, reject")
    actions = sub.add_subparsers(dest="action", metavar="ACTION")
    actions.required = False
    start = actions.add_parser(
        "start", parents=[common, wait], help="serve VERSION beside the champion (skips the offline gate, as promote --force)"
    )
    start.add_argument("version")
    start.add_argument("--mode", choices=["interleave", "ab"], help="default: $MOVIE_R_ONLINE, or interleave when it is off")
    start.set_defaults(handler=cmd_start)
    status = actions.add_parser("status", parents=[common], help="where the running experiment stands (the default)")
    status.add_argument("--json", action="store_true", help="the Experiment record with its counts and statistic")
    status.set_defaults(handler=cmd_status)
    for name, summary in (
        ("stop", "end it: the champion stays, the candidate is neither promoted nor rejected"),
        ("promote", "end it by promoting the candidate now"),
        ("reject", "end it by rejecting the candidate now"),
    ):
        action = actions.add_parser(name, parents=[common, wait], help=summary)
        action.set_defaults(handler=cmd_end, ending=name)
    sub.set_defaults(handler=cmd_status, json=False)


def cmd_start(args: argparse.Namespace) -> int:
    from movie_r.lifecycle import experiments
    from movie_r.lifecycle.promotion import servable, trainer_lock
    from movie_r.storage.records import OnlineMode
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    registry = Registry.of(settings)
    mode = OnlineMode(args.mode or (settings.online if settings.online != "off" else "interleave"))
    with trainer_lock(registry, args.wait, f"start an experiment for {args.version}"):
        servable(registry.get(args.version))
        experiment = experiments.start(
            registry, args.version, mode, experiments.rule_of(settings), "operator", ["started by hand (offline gate skipped)"]
        )
    print(f"experiment {experiment.id}: {experiment.mode.value}, candidate {experiment.candidate} against champion {experiment.champion}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from movie_r.lifecycle import experiments
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    experiment = experiments.current(Registry.of(settings))
    if experiment is None:
        print(json.dumps(None) if args.json else "no experiment is running")
        return 0
    counted = experiments.tally(experiment, settings.metrics_dir)
    if args.json:
        print(json.dumps(experiments.describe(experiment, counted)))
        return 0
    print(f"experiment {experiment.id} ({experiment.mode.value}, started {experiment.started_at:%Y-%m-%d %H:%M:%S} UTC by {experiment.started_by})")
    print(f"  candidate {experiment.candidate} against champion {experiment.champion}")
    print(f"  {counted.summary()}")
    left = counted.judgement.impressions_left
    if left is not None:
        print(f"  about {left} more impressions to decide at the current effect")
    return 0


def cmd_end(args: argparse.Namespace) -> int:
    from movie_r.lifecycle import experiments
    from movie_r.lifecycle.experiments import Ending
    from movie_r.lifecycle.promotion import trainer_lock
    from movie_r.storage.registry import Registry
    from movie_r_agents.online import trace

    settings = settings_from(args)
    registry = Registry.of(settings)
    ending = {"stop": Ending.STOPPED, "promote": Ending.PROMOTED, "reject": Ending.REJECTED}[args.ending]
    with trainer_lock(registry, args.wait, f"{args.ending} the experiment"):
        experiment = experiments.current(registry)
        if experiment is None:
            raise MovieRError("no experiment is running")
        counted = experiments.tally(experiment, settings.metrics_dir)
        experiments.end(registry, experiment, ending, f"{args.ending} by hand ({counted.summary()})", counted)
        trace(settings, experiment, counted, ending)
    print(f"experiment {experiment.id} ended: {ending.value} (champion {registry.champion_version()})")
    return 0
