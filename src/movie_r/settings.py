"""One settings object for every command and service, read from the environment.

Every variable is `MOVIE_R_<NAME>` (e.g. `MOVIE_R_HOME`); command-line flags override
them by passing keyword arguments to `Settings(...)`. Nothing is read at import time.

The fields come in sections (storage, training, serving, telemetry, agent, triggers), each
its own model: a function that needs one section says so in its signature (the triggers
take `TriggerSettings`), and `Settings` is all of them at once. The variables stay flat
(`MOVIE_R_PORT`, not `MOVIE_R_SERVING__PORT`): they are what operators have in their
compose files and unit files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from movie_r.storage.layout import StorageLayout

_PACKAGE_DIR = Path(__file__).resolve().parent
MIN_TOKEN_LENGTH = 16


def _repo_root() -> Path:
    """The checkout this package was installed from (editable install), else the working directory."""
    candidate = _PACKAGE_DIR.parents[1]
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def default_catalog() -> Path:
    return _repo_root() / "data" / "catalog.csv.gz"


def default_interactions(data: dict[str, Any]) -> Path | None:
    """The embedded ratings, but only beside the embedded catalogue.

    Their movie ids are MovieLens ids: applied to another catalogue they would either be
    refused or, worse, attach to whichever of its movies happen to share a number.
    """
    catalog = data.get("catalog")
    if catalog is not None and Path(catalog).resolve() != default_catalog().resolve():
        return None
    return _repo_root() / "data" / "ratings.csv.gz"


def _empty_means_none(value: object) -> object:
    """An empty variable (`MOVIE_R_INTERACTIONS=`) switches the feature off."""
    return None if value == "" else value


class StorageSettings(BaseModel):
    """Where everything lives: the storage root and the data commands use when given none."""

    home: Path = Field(default_factory=_repo_root, description="Storage root holding models/, metrics/, reports/.")
    catalog: Path = Field(default_factory=default_catalog, description="Catalogue CSV used when a command is given none.")
    interactions: Path | None = Field(
        default_factory=default_interactions,
        description="Ratings CSV (user_id,movie_id,rating[,timestamp]); empty to train without. Default: the "
        "embedded ratings with the embedded catalogue, none with any other.",
    )
    keys_dir: Path | None = Field(
        None, description="Signing keys: signing.key (trainers only) and trusted/*.pub (everyone). Default <home>/keys."
    )
    skip_invalid: bool = Field(
        False, description="Drop unusable catalogue rows (no id, duplicate id, no title) instead of refusing the file."
    )
    skip_unknown: bool = Field(False, description="Drop ratings of movies the catalogue lacks instead of refusing the file.")

    _empty_paths = field_validator("interactions", "keys_dir", mode="before")(_empty_means_none)

    @property
    def storage(self) -> StorageLayout:
        """Every path under the storage root (`movie_r.storage.layout`)."""
        return StorageLayout(self.home, self.keys_dir)

    @property
    def models_dir(self) -> Path:
        return self.storage.models.root

    @property
    def keys_path(self) -> Path:
        return self.storage.keys

    @property
    def metrics_dir(self) -> Path:
        return self.storage.metrics.root

    @property
    def feedback_dir(self) -> Path:
        return self.storage.metrics.feedback

    @property
    def reports_dir(self) -> Path:
        return self.storage.reports.root


class TrainingSettings(BaseModel):
    """How models are fitted and what a tuned one must reach."""

    neighbours: int = Field(100, ge=1, le=1000, description="Neighbours precomputed per movie.")
    min_coverage: float = Field(0.1, ge=0, le=1, description="Catalogue coverage a tuned model's lists must reach.")
    block_memory_mb: int = Field(256, ge=8, description="Memory budget of one block of the neighbour product.")
    candidates: int = Field(
        400,
        ge=0,
        description="Candidates per movie each signal hands the sparse neighbour search; 0 scores every pair densely (exact, quadratic).",
    )
    tune_users: int = Field(
        20_000, ge=100, description="Users whose ratings `auto` tunes on at most (a fixed sample); the chosen model fits on all."
    )
    tune_folds: int = Field(
        3,
        ge=1,
        le=3,
        description="Temporal validation folds `auto` averages over at most (the latest 20, 30, 40 % of each user's "
        "training positives), while their queries number fewer than 5,000.",
    )
    tune_jobs: int = Field(
        0,
        ge=0,
        description="Processes `auto` fits grid points in; 0: one per core, fewer where memory would not hold them.",
    )


class EngineSettings(BaseModel):
    """Where a training's catalogue-wide stages run: this process, or Apache Spark."""

    engine: Literal["local", "spark"] = Field(
        "local",
        description="local: every stage in the training process; spark: the neighbour ranking on Apache Spark "
        "(pip install 'movie-r[spark]', Java 17+).",
    )
    spark_master: str = Field(
        "local[*]", description="The Spark master: local[N] (N cores of this machine), or spark://host:7077 (a standalone cluster)."
    )
    spark_work_dir: Path | None = Field(
        None,
        description="Where Spark stages write their Parquet files, on storage the driver and every executor share. "
        "Default <home>/spark.",
    )

    spark_wait_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a Spark training waits for the cluster to give it an executor (at the start, or after "
        "losing every one) before it fails.",
    )

    _empty_work = field_validator("spark_work_dir", mode="before")(_empty_means_none)


class ServingSettings(BaseModel):
    """The API: where it listens, how it answers, what it accepts."""

    fuzzy_threshold: float = Field(80.0, ge=0, le=100, description="Minimum rapidfuzz ratio for a fuzzy title match.")
    cache_size: int = Field(20_000, ge=0, description="Answers kept per loaded model (0 turns the cache off).")
    cache_mb: int = Field(128, ge=1, description="Memory the answer caches of one loaded model may hold, in MB.")
    warm_answers: int = Field(
        1000, ge=0, description="Most popular movies whose answers (by title and by id) are computed before a model serves."
    )
    host: str = Field("127.0.0.1", description="Address the API listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port the API listens on.")
    workers: int = Field(1, ge=1, description="uvicorn worker processes.")
    loop: Literal["asyncio", "uvloop"] = Field(
        "asyncio",
        description="Event loop. asyncio runs ready requests first come, first served; uvloop serves /health faster "
        "but under load made requests wait behind CPU-bound ones (docs/benchmarks.md, Serving under load).",
    )
    opentelemetry: bool = Field(
        False, description="FastAPI's built-in OpenTelemetry spans, metrics and logs (needs an OpenTelemetry SDK set up)."
    )
    watch_interval: float = Field(2.0, gt=0, description="Seconds between checks of the champion symlink.")
    admin_token: SecretStr | None = Field(
        None, description=f"Bearer token for /admin/* (at least {MIN_TOKEN_LENGTH} characters); unset disables them."
    )
    console_token: SecretStr | None = Field(
        None,
        description=f"Token the console asks for (HTTP Basic password or bearer; at least {MIN_TOKEN_LENGTH} characters); "
        "unset: the console is open to whoever reaches the service.",
    )
    request_id_secret: SecretStr | None = Field(
        None, description="Key of the request ids feedback must cite; default: <keys>/request-ids.secret, made on first use."
    )
    max_body_kb: int = Field(16, ge=1, description="Largest request body accepted (413 beyond).")
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds a request's line and headers may take to arrive (408 and closed beyond)."
    )
    trusted_proxies: str | None = Field(
        None,
        description="Proxies whose X-Forwarded-For names the client (comma-separated addresses, networks or host "
        "names); unset: none, every client is the address it connects from.",
    )
    feedback_per_minute: int = Field(60, ge=1, description="Feedback posts one client may make a minute (429 beyond).")

    _empty_secrets = field_validator("admin_token", "console_token", "request_id_secret", "trusted_proxies", mode="before")(
        _empty_means_none
    )

    @field_validator("admin_token", "console_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        """A short token falls to guessing: refused at start rather than accepted quietly."""
        if token is not None and len(token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"a token must have at least {MIN_TOKEN_LENGTH} characters")
        return token


class TelemetrySettings(BaseModel):
    """What the API records (events, feedback) and how long it is kept."""

    feedback_rotate_mb: int = Field(10, ge=1, description="Size at which a feedback file is rotated.")
    feedback_retention_days: float = Field(90, gt=0, description="Feedback files older than this are deleted.")
    feedback_per_source_max: int = Field(
        5, ge=1, description="Feedback events one client may contribute to a trigger window and to training data."
    )
    events_flush_interval: float = Field(1.0, gt=0, description="Seconds between flushes of buffered events.")
    events_rotate_mb: int = Field(50, ge=1, description="Size at which an events file is rotated.")
    events_retention_days: float = Field(14, gt=0, description="Rotated events files older than this are deleted.")
    summary_window_hours: float = Field(24.0, gt=0, description="Window aggregated into metrics/summary.json.")


class AgentSettings(BaseModel):
    """The retraining agent: when it ticks, how it judges a challenger, what it keeps."""

    agent_interval_seconds: float = Field(600, gt=0, description="Seconds between agent ticks.")
    agent_jitter_seconds: float = Field(30, ge=0, description="Random delay added to each tick.")
    failure_backoff_max_ticks: int = Field(
        32, ge=0, description="After failed ticks, at most this many ticks are passed over before the same inputs are tried again."
    )
    cooldown_hours: float = Field(6, ge=0, description="After a rejection, wait this long before retraining the same data.")
    promotion_margin: float = Field(0.0, ge=0, description="How much better a challenger must score to be promoted.")
    require_significant: bool = Field(False, description="Promote only if the bootstrap CI's lower bound is above 0.")
    latency_budget: float = Field(2.0, gt=0, description="Allowed challenger p95 latency as a multiple of the champion's.")
    keep_versions: int = Field(10, ge=2, description="Versions kept on disk (champion and previous always kept).")


class TriggerSettings(BaseModel):
    """What makes the agent retrain: each trigger's switch and threshold."""

    trigger_cold_start: bool = Field(True, description="Retrain when the cold-start rate is too high.")
    cold_start_rate_max: float = Field(0.3, ge=0, le=1, description="Cold-start rate that triggers a retrain.")
    min_requests: int = Field(50, ge=1, description="Requests needed before traffic-based triggers count.")
    trigger_similarity: bool = Field(True, description="Retrain when served similarity drops.")
    mean_similarity_min: float = Field(0.15, ge=0, le=1, description="Mean similarity below which to retrain.")
    trigger_feedback: bool = Field(True, description="Retrain when too much feedback is negative.")
    negative_feedback_max: float = Field(0.4, ge=0, le=1, description="Share of dislikes that triggers a retrain.")
    min_feedback: int = Field(20, ge=1, description="Feedback events needed before the feedback trigger counts.")
    client_retrains_per_day: int = Field(
        3,
        ge=0,
        description="Retrains a day that only client-fed triggers (cold-start rate, similarity, negative feedback) "
        "may start; data, age and forced retrains are not counted.",
    )
    trigger_age: bool = Field(True, description="Retrain when the champion is too old.")
    max_age_hours: float = Field(168, gt=0, description="Champion age that triggers a retrain.")
    trigger_data_change: bool = Field(True, description="Retrain when the catalogue or interactions changed.")
    trigger_unused_interactions: bool = Field(True, description="Retrain when ratings exist but the champion ignores them.")


class OnlineSettings(BaseModel):
    """How a challenger that passed the offline gate meets real traffic before it is trusted."""

    online: Literal["interleave", "ab", "off"] = Field(
        "interleave",
        description="interleave: serve team-draft interleaved lists of champion and candidate and promote on clicks; "
        "ab: split clients between them; off: promote on the offline verdict alone.",
    )
    online_alpha: float = Field(0.05, gt=0, lt=1, description="Chance of declaring a winner between equal models.")
    online_power: float = Field(0.8, gt=0, lt=1, description="Chance of finding a candidate better by the minimal effect.")
    online_min_effect: float = Field(
        0.05, gt=0, lt=0.5, description="Smallest preference worth finding: the candidate's share of decided impressions minus 1/2."
    )
    online_max_impressions: int = Field(20_000, ge=1, description="Impressions after which an undecided experiment ends.")
    online_max_hours: float = Field(72, gt=0, description="Hours after which an undecided experiment ends.")
    online_quiet_minutes: float = Field(
        5, ge=0, description="An experiment that gets no feedback at all in this first window ends with the offline verdict."
    )
    online_watch_hours: float = Field(
        24,
        ge=0,
        description="After a promotion, compare the champion's click-through with the previous champion's for this "
        "long; a significant drop restores the previous one. 0 turns the watch off.",
    )
    online_click_delay_seconds: float = Field(
        60, ge=0, description="Answers younger than this are not counted by the watch yet: their clicks may still come."
    )


SECTIONS: tuple[type[BaseModel], ...] = (
    StorageSettings,
    TrainingSettings,
    EngineSettings,
    ServingSettings,
    TelemetrySettings,
    AgentSettings,
    TriggerSettings,
    OnlineSettings,
)


class Settings(
    BaseSettings,
    StorageSettings,
    TrainingSettings,
    EngineSettings,
    ServingSettings,
    TelemetrySettings,
    AgentSettings,
    TriggerSettings,
    OnlineSettings,
):
    """Every section at once, read from `MOVIE_R_*` variables."""

    model_config = SettingsConfigDict(env_prefix="MOVIE_R_", extra="ignore")

    @property
    def spark_work(self) -> Path:
        """The Spark engine's work directory (`spark_work_dir`, default <home>/spark)."""
        return self.spark_work_dir or self.home / "spark"
