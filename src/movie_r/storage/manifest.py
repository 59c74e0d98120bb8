"""`models/versions/<v>/manifest.json`: what a saved version says of itself. How it scored,
what it was trained on, how tuning chose it. Read by every service and the CLI through these
models; older manifests read with their defaults, and unknown fields are kept."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from movie_r.errors import ArtifactError


class Evaluation(BaseModel):
    """How a version scored when it was trained (`EvaluationReport.summary()`)."""

    model_config = ConfigDict(extra="allow")

    protocol: str = "?"
    score_name: str = "?"
    score: float = math.nan
    metrics: dict[str, float] = {}
    n_queries: int = 0


class FileFingerprint(BaseModel):
    """One input file as a version (or a tick) saw it."""

    model_config = ConfigDict(extra="allow")

    path: str | None = None
    sha256: str | None = None
    rows: int | None = None


class TrainedOn(BaseModel):
    """The fingerprints of the training inputs: the catalogue, and the interactions when there were any."""

    model_config = ConfigDict(extra="allow")

    catalog: FileFingerprint | None = None
    interactions: FileFingerprint | None = None

    def files(self) -> dict[str, FileFingerprint]:
        """The inputs there were, by name."""
        return {name: found for name, found in (("catalog", self.catalog), ("interactions", self.interactions)) if found}


class FoldScore(BaseModel):
    """One tried configuration on one validation fold."""

    model_config = ConfigDict(extra="allow")

    fraction: float
    score: float = math.nan  # the tuning score (NDCG@10); versions saved before it was named kept it under its metric's name
    coverage: float = 0.0


class TriedConfiguration(BaseModel):
    """One configuration tuning scored: its mean metrics over the folds it reached, and each fold's."""

    model_config = ConfigDict(extra="allow")

    kind: str
    params: dict[str, Any] = {}
    metrics: dict[str, float] = {}  # each metric's mean over the folds (older versions: at the top level)
    lowest_coverage: float = 0.0
    folds: list[FoldScore] = []


class Selection(BaseModel):
    """Why `auto` chose this configuration, and every configuration it tried on validation data."""

    model_config = ConfigDict(extra="allow")

    reason: str
    validation: list[TriedConfiguration] = []
    tuned_on_users: int | None = None  # the users whose ratings the grid was fitted on (a sample when fewer than `users`)
    users: int | None = None


class Manifest(BaseModel):
    """`models/versions/<v>/manifest.json`: what a version is, how it scored, what it was trained on."""

    model_config = ConfigDict(extra="allow")

    version: str
    created_at: datetime | None = None  # absent from manifests written by other tools
    kind: str = "tfidf"  # the only kind before kinds were recorded
    params: dict[str, Any] = {}
    selection: Selection | None = None
    data: TrainedOn = TrainedOn()
    libraries: dict[str, str | None] = {}  # None: a library this environment lacks
    train_seconds: float | None = None
    lists_seconds: float | None = None
    evaluation: Evaluation = Evaluation()
    warnings: list[str] = []
    artifact_sha256: str | None = None
    files: dict[str, str] = {}  # further files beside the pipeline -> their SHA-256

    @classmethod
    def parse(cls, raw: bytes, where: str) -> Manifest:
        """The manifest in `raw`, or an `ArtifactError` naming `where` and what is wrong."""
        try:
            return cls.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "the document"
            raise ArtifactError(f"{where}: unreadable manifest ({field}: {first['msg']})") from None
