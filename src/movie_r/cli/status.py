"""`movie-r status` and `movie-r models`: what the storage root holds now, read without
loading numpy, pandas or scikit-learn."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from movie_r.cli.options import settings_from
from movie_r.errors import MovieRError

if TYPE_CHECKING:
    from movie_r.storage.agent_status import AgentStatus
    from movie_r.storage.manifest import Manifest, TrainedOn


def cmd_models(args: argparse.Namespace) -> int:
    from movie_r.storage.lineage import statuses
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    registry = Registry.of(settings)
    versions = registry.versions()
    if not versions:
        print(f"no models in {registry.root}; run `movie-r train`")
        return 0
    status = statuses(registry)
    datasets: dict[str, str] = {}  # short data fingerprint -> what it stands for
    print(f"  {'version':<24} {'kind':<10} {'metric':<19} {'score':>7}  {'data':<13} {'status':<9} created")
    for version in versions:
        manifest = version.manifest
        evaluation = manifest.evaluation
        data = _data_label(manifest.data)
        datasets.setdefault(data, _describe_data(manifest.data))
        state = status.get(version.version, "trained")
        mark = "*" if state == "champion" else " "
        print(
            f"{mark} {version.version:<24} {manifest.kind:<10} {evaluation.score_name:<19} "
            f"{evaluation.score:>7.4f}  {data:<13} {state:<9} {_created(manifest)}"
        )
    champion = registry.champion_version()
    if champion is not None and champion not in {v.version for v in versions}:
        print(f"! {champion:<24} the champion link points at a version whose manifest cannot be read")
    print()
    for label, described in datasets.items():
        print(f"  data {label}: {described}")
    groups = {(v.manifest.evaluation.score_name, _data_label(v.manifest.data)) for v in versions}
    if len(groups) > 1:
        print(f"  scores compare only within one metric on one data: {len(groups)} such groups above")
    return 0


def _created(manifest: Manifest) -> str:
    return f"{manifest.created_at:%Y-%m-%dT%H:%M:%S}" if manifest.created_at else "?"


def _data_label(data: TrainedOn) -> str:
    """`catalog/ratings` SHA-256 prefixes: the same label means the same training data."""
    catalog = (data.catalog.sha256 if data.catalog else None) or "?"
    interactions = (data.interactions.sha256 if data.interactions else None) or "-"
    return f"{catalog[:6]}/{interactions[:6]}"


def _describe_data(data: TrainedOn) -> str:
    catalog, interactions = data.catalog, data.interactions
    ratings = f"{interactions.path} ({interactions.rows} ratings)" if interactions else "no ratings"
    described = f"{catalog.path} ({catalog.rows} movies)" if catalog else "? (? movies)"
    return f"{described}, {ratings}"


def cmd_status(args: argparse.Namespace) -> int:
    from movie_r.lifecycle.data_match import data_match
    from movie_r.storage.agent_status import read_status
    from movie_r.storage.files import utc_now
    from movie_r.storage.registry import Registry

    settings = settings_from(args)
    registry = Registry.of(settings)
    print(f"home         {settings.home}")
    print(f"catalog      {settings.catalog}")
    print(f"interactions {settings.interactions or '-'}")
    print(f"versions     {len(registry.versions())}")
    try:
        champion = registry.champion()
    except MovieRError as exc:
        print(f"champion     {registry.champion_version()} CANNOT BE READ: {exc}; the agent restores the last good one")
        champion = None
    else:
        if champion is None:
            print("champion     none (run `movie-r train`)")
    agent = read_status(settings.metrics_dir)
    rejected = _rejection(agent)
    if champion is None:
        print(f"agent        {_describe_agent(agent)}")
        if rejected:
            print(f"data         {rejected}")
        return 0
    manifest = champion.manifest
    age = f"{(utc_now() - manifest.created_at).total_seconds() / 3600:.1f} h old" if manifest.created_at else "age unknown"
    print(f"champion     {champion.version} ({manifest.kind}), {age}")
    print(f"score        {manifest.evaluation.score_name}={manifest.evaluation.score:.4f}")
    match = data_match(manifest.data, settings.catalog, settings.interactions)
    if rejected:
        print(f"data         {'matches' if match.matches else 'DOES NOT MATCH'}: {match.detail}; {rejected}")
    elif match.matches:
        print(f"data         {match.detail}")
    else:
        retrain = "" if match.catalog else " (another catalogue: the agent retrains on its next tick)"
        print(f"data         DOES NOT MATCH: {match.detail}{retrain}")
    print(f"agent        {_describe_agent(agent)}")
    return 0


_SKIP_HINT = re.compile(r"\s*\(skip them with [^()]*\)")


def _rejection(agent: AgentStatus | None) -> str | None:
    """What to do when the agent's last tick refused the configured data: it would refuse it again."""
    if agent is None or agent.last_verdict != "data rejected" or not agent.last_error:
        return None
    setting = "MOVIE_R_SKIP_UNKNOWN" if "--skip-unknown" in agent.last_error else "MOVIE_R_SKIP_INVALID"
    line = _SKIP_HINT.sub("", agent.last_error.splitlines()[0])
    return f"rejected: {line}; fix the file or set {setting}=1"


def _describe_agent(agent: AgentStatus | None) -> str:
    if agent is None:
        return "no status written yet (metrics/agent.json)"
    described = f"{agent.state} (pid {agent.pid} on {agent.host}), {agent.ticks} ticks, {agent.failed_ticks} failed"
    if agent.last_tick_at:
        described += f"; last tick {agent.last_tick_at:%Y-%m-%d %H:%M:%S} UTC: {agent.last_verdict}"
    if agent.next_tick_at and agent.state != "stopped":
        described += f"; next {agent.next_tick_at:%H:%M:%S} UTC"
    return described
