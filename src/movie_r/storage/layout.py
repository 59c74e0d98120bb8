"""The storage root's layout: every path the services share, in one place.

The storage root (`MOVIE_R_HOME`) is the interface between the API and the agent; this is
its map. Code that reads or writes a shared file asks these objects for the path rather
than joining names itself, so the layout can be read (and changed) here alone. Each
subtree has its own layout object, valid wherever that directory is mounted (the API
containers mount `models/` and `metrics/` separately) or moved.

The README's storage table ("How it works") says, path by path, what each holds, who writes it
and who reads it; `journal` is how JSON-lines files are written and read, `records` the
typed records in them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")  # what may name a file: no separator, no leading dot


@dataclass(frozen=True)
class ModelsLayout:
    """`models/`: versions, the champion link, the lifecycle log; written by trainers only."""

    root: Path

    @property
    def versions(self) -> Path:
        return self.root / "versions"

    @property
    def champion_link(self) -> Path:
        return self.root / "champion"  # a relative symlink into versions/

    @property
    def candidate_link(self) -> Path:
        return self.root / "candidate"  # a relative symlink into versions/, while an experiment runs

    @property
    def experiment(self) -> Path:
        return self.root / "experiment.json"  # the running online experiment (`records.Experiment`)

    @property
    def registry_log(self) -> Path:
        return self.root / "registry.jsonl"

    @property
    def trainer_lock(self) -> Path:
        return self.root / ".trainer.lock"


@dataclass(frozen=True)
class MetricsLayout:
    """`metrics/`: what the API replicas record (events, feedback) and the agent's own status."""

    root: Path

    @property
    def events(self) -> Path:
        return self.root / "events"  # <host>-<pid>.jsonl per serving process

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"  # <host>-<pid>.jsonl per serving process

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def agent_status(self) -> Path:
        return self.root / "agent.json"

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"  # <experiment id>.jsonl: the agent's tally at each tick

    def experiment_trace(self, experiment: str) -> Path:
        """An experiment's trace (`experiment_trace`); an id read from a file names no other path."""
        if not PLAIN_NAME.fullmatch(experiment):
            raise ValueError(f"{experiment[:100]!r} is no experiment id")
        return self.experiments / f"{experiment}.jsonl"


@dataclass(frozen=True)
class ReportsLayout:
    """`reports/`: the agent's decisions and its promotion reports."""

    root: Path

    @property
    def decisions(self) -> Path:
        return self.root / "decisions.jsonl"

    def report(self, version: str, suffix: str) -> Path:
        """A challenger's promotion report: `.json` or `.html`."""
        return self.root / f"{version}{suffix}"


@dataclass(frozen=True)
class StorageLayout:
    """One storage root; `keys_dir` overrides where the keys live (`MOVIE_R_KEYS_DIR`)."""

    home: Path
    keys_dir: Path | None = None

    @property
    def models(self) -> ModelsLayout:
        return ModelsLayout(self.home / "models")

    @property
    def keys(self) -> Path:
        """signing.key, trusted/<id>.pub and request-ids.secret (`signing`)."""
        return self.keys_dir if self.keys_dir is not None else self.home / "keys"

    @property
    def metrics(self) -> MetricsLayout:
        return MetricsLayout(self.home / "metrics")

    @property
    def reports(self) -> ReportsLayout:
        return ReportsLayout(self.home / "reports")
