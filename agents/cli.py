"""The agent's subcommands of `movie-r` (agent, retrain, promote, rollback, experiment, decisions),
registered through the `movie_r.commands` entry point."""

from __future__ import annotations

import argparse
import json
from typing import Any

from movie_r.cli.options import settings_from
from movie_r.errors import MovieRError
from movie_r.recommenders.kinds import KINDS
from movie_r.storage.records import Decision
from movie_r_agents import experiment_cli


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    sub = commands.add_parser("agent", parents=[common], help="run the retraining agent (APScheduler)")
    sub.add_argument("--once", action="store_true", help="run one tick and exit (cron, tests)")
    sub.add_argument("--interval", type=float, help="seconds between ticks (default: $MOVIE_R_AGENT_INTERVAL_SECONDS or 600)")
    sub.set_defaults(handler=cmd_agent)

    sub = commands.add_parser("retrain", parents=[common], help="one agent tick now")
    sub.add_argument("--force", action="store_true", help="retrain even if no trigger fires (the promotion rule still applies)")
    sub.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="train only this configuration, e.g. --param text__genre_weight=5 (repeatable; values are JSON)",
    )  # fmt: skip
    sub.add_argument("--model", choices=["auto", *KINDS], help="train only this kind (auto: tune all kinds)")
    sub.add_argument("--wait", type=float, default=0, help="seconds to wait for another trainer to finish")
    sub.set_defaults(handler=cmd_retrain)

    wait = argparse.ArgumentParser(add_help=False)
    wait.add_argument("--wait", type=float, default=0, help="seconds to wait for a running trainer to finish (default 0)")

    sub = commands.add_parser("promote", parents=[common, wait], help="make a version champion")
    sub.add_argument("version")
    sub.add_argument("--force", action="store_true", help="skip the promotion rule (still atomic and recorded)")
    sub.set_defaults(handler=cmd_promote)

    sub = commands.add_parser("rollback", parents=[common, wait], help="return to the previous champion")
    sub.set_defaults(handler=cmd_rollback)

    experiment_cli.register(commands, common, wait)

    sub = commands.add_parser("decisions", parents=[common], help="recent decisions of the agent")
    sub.add_argument("-n", type=int, default=10, help="how many (default 10)")
    sub.add_argument("--json", action="store_true", help="print each decision as one JSON line")
    sub.set_defaults(handler=cmd_decisions)



def cmd_agent(args: argparse.Namespace) -> int:
    from movie_r_agents.scheduler import run_agent
    from movie_r_agents.tick import run_tick

    settings = settings_from(args)
    if args.once:
        return _print_decision(run_tick(settings))
    run_agent(settings)
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    from movie_r_agents.tick import run_tick

    params = dict(_parse_param(text) for text in args.param) if args.param else None
    settings = settings_from(args)
    return _print_decision(run_tick(settings, force=args.force, params=params, kind=args.model, lock_timeout=args.wait))


def cmd_promote(args: argparse.Namespace) -> int:
    from movie_r_agents.manual import promote_by_hand

    event = promote_by_hand(settings_from(args), args.version, args.force, args.wait)
    print(f"champion is now {event.version} (was {event.previous}): {event.reason}")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from movie_r.lifecycle.promotion import rollback, trainer_lock
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    registry = Registry.of(settings)
    with trainer_lock(registry, args.wait, "roll back"):
        event = rollback(registry)
    print(f"rolled back: champion is now {event.version} again (retired {event.previous})")
    return 0


def cmd_decisions(args: argparse.Namespace) -> int:
    from movie_r_agents.decision_log import read_decisions

    decisions = read_decisions(settings_from(args))[-args.n :]
    if not decisions:
        print("no decisions recorded yet; the agent writes one per tick")
    for decision in decisions:
        if args.json:
            print(decision.model_dump_json(exclude_unset=True))
        else:
            _print_decision(decision)
    return 0


def _print_decision(decision: Decision | dict[str, Any]) -> int:
    """Readable decision; the exit code says whether the tick failed."""
    if isinstance(decision, dict):
        decision = Decision.model_validate(decision)
    when = f"{decision.time:%Y-%m-%dT%H:%M:%S}" if decision.time else "?"
    print(f"{when}  {decision.verdict.upper()}  (champion {decision.champion})")
    for check in decision.triggers:
        mark = "FIRED" if check.fired else ("off" if not check.enabled else "ok")
        print(f"    {mark:<6}{check.name:<21}{check.reason}")
    for reason in decision.reasons:
        print(f"  - {reason}")
    outcome = decision.outcome
    if outcome is not None:
        print(f"  => {outcome.result}" + (f" {outcome.challenger}" if outcome.challenger else ""))
        for reason in outcome.reasons:
            print(f"     {reason}")
        if outcome.error:
            print(f"     error: {outcome.error}")
        if outcome.report:
            print(f"     report: {outcome.report}")
    return 1 if outcome is not None and outcome.result in ("failed", "abandoned") else 0


def _parse_param(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise MovieRError(f"--param {text!r}: expected NAME=VALUE")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    return name, tuple(parsed) if isinstance(parsed, list) else parsed
