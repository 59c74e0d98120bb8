"""Watching a new champion: do people click its answers as often as the champion it replaced?

Offline scores and an online experiment are samples; after a promotion all the traffic meets
the new champion. For `online_watch_hours` after it was installed, its answers outside any
experiment are counted with the clicks they earned and compared with the previous
champion's answers in its last window of the same length (before the experiment, when the
promotion ended one, since the previous champion did not answer alone during it).

The comparison is looked at once: when the new champion has been shown as often as the
previous one was in its window, or when the watch window ends. One look keeps the chance
of restoring a champion that is as good as its predecessor at alpha/2 (a one-sided
two-proportion z-test), where looking every tick and stopping at the first significant
reading would raise it several-fold. A significant drop restores the previous champion:
`restored`, reason `online_regression`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from statistics import NormalDist

from movie_r.errors import ArtifactError
from movie_r.lifecycle.experiments import CLICKS
from movie_r.lifecycle.promotion import rollback
from movie_r.lifecycle.telemetry import read_events, read_feedback
from movie_r.storage.files import utc_now
from movie_r.storage.lineage import CHAMPION_EVENTS
from movie_r.storage.records import Event, RegistryEvent, RequestEvent
from movie_r.storage.registry import Registry

ONLINE_REGRESSION = "online_regression"


@dataclass(frozen=True)
class Exposure:
    """A version's answers outside any experiment in a window, and how many earned a click."""

    impressions: int
    clicked: int

    @property
    def rate(self) -> float:
        return self.clicked / self.impressions if self.impressions else 0.0


@dataclass(frozen=True)
class Watch:
    """Where the watch of a new champion stands."""

    champion: str
    previous: str
    installed_at: datetime
    ends_at: datetime
    baseline: Exposure  # the previous champion in its last window
    observed: Exposure  # the champion since it was installed
    boundary: float  # z below -boundary is a significant drop

    @property
    def z(self) -> float | None:
        """The two-proportion z statistic of the champion's click-through rate against the baseline's."""
        n0, n1 = self.baseline.impressions, self.observed.impressions
        if not n0 or not n1:
            return None
        pooled = (self.baseline.clicked + self.observed.clicked) / (n0 + n1)
        spread = math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n1))
        return (self.observed.rate - self.baseline.rate) / spread if spread else 0.0

    def due(self, now: datetime) -> bool:
        """Time for the one look: as many impressions as the baseline had, or the window's end."""
        return self.observed.impressions >= self.baseline.impressions or now >= self.ends_at

    @property
    def regressed(self) -> bool:
        z = self.z
        return self.baseline.clicked > 0 and z is not None and z < -self.boundary

    def summary(self) -> str:
        z = "n/a" if self.z is None else f"{self.z:+.2f}"
        return (
            f"click-through {self.observed.rate:.3f} over {self.observed.impressions} answers since {self.installed_at:%Y-%m-%d %H:%M} "
            f"against {self.previous}'s {self.baseline.rate:.3f} over {self.baseline.impressions}; z {z} (a drop below "
            f"-{self.boundary:.2f} restores it)"
        )


def installed(registry: Registry, events: list[RegistryEvent], hours: float, now: datetime) -> RegistryEvent | None:
    """The promotion that installed the champion, while its watch is open: within `hours`, with
    a previous champion to compare with, and not concluded yet."""
    champion = registry.champion_version()
    for event in reversed(events):
        if event.event == Event.WATCH_ENDED and event.version == champion:
            return None
        if event.event in CHAMPION_EVENTS and event.version == champion:
            # a rollback (by hand, on a broken champion or on a regression) returns to a known
            # champion: only a promotion brings one traffic has not judged yet
            fresh = now - event.time < timedelta(hours=hours)
            return event if event.event == Event.PROMOTED and fresh and event.previous else None
    return None


def look(
    registry: Registry, metrics_dir: Path, hours: float, alpha: float, click_delay: float, now: datetime | None = None
) -> Watch | None:
    """The watch of the champion, or None when none is open. Answers younger than `click_delay`
    seconds are left out: their clicks may still come, and counting them would look like a drop."""
    now = now or utc_now()
    events = registry.events()
    install = installed(registry, events, hours, now)
    if install is None or install.previous is None or install.version is None:
        return None
    alone_until = _experiment_start(events, install) or install.time
    window = timedelta(hours=hours)
    since = alone_until - window
    clicked = {f.request_id for f in read_feedback(metrics_dir, since) if f.action in CLICKS}
    answers = list(read_events(metrics_dir, since))
    return Watch(
        champion=install.version,
        previous=install.previous,
        installed_at=install.time,
        ends_at=install.time + window,
        baseline=_exposure(answers, clicked, install.previous, since.timestamp(), alone_until.timestamp()),
        observed=_exposure(answers, clicked, install.version, install.time.timestamp(), now.timestamp() - click_delay),
        boundary=NormalDist().inv_cdf(1 - alpha / 2),
    )


def conclude(registry: Registry, watch: Watch) -> RegistryEvent:
    """The one look: restore the previous champion on a significant drop; record the end either way."""
    if watch.regressed:
        try:
            event = rollback(registry, f"{ONLINE_REGRESSION}: {watch.summary()}")
        except ArtifactError as exc:
            reason = f"{ONLINE_REGRESSION}: {watch.summary()}; {watch.previous} cannot be restored ({exc})"
            return registry.record(Event.WATCH_ENDED, watch.champion, previous=watch.previous, reason=reason, result="regressed")
        registry.record(Event.WATCH_ENDED, watch.champion, previous=watch.previous, reason=event.reason, result="regressed")
        return event
    held = "held" if watch.baseline.clicked else "held (the previous champion earned no clicks to compare with)"
    return registry.record(
        Event.WATCH_ENDED, watch.champion, previous=watch.previous, reason=f"{held}: {watch.summary()}", result="held"
    )


def _experiment_start(events: list[RegistryEvent], install: RegistryEvent) -> datetime | None:
    """When the experiment that ended in this install started, if one did."""
    for event in reversed(events):
        if event.time > install.time:
            continue
        if event.event == Event.EXPERIMENT_STARTED and event.version == install.version and event.previous == install.previous:
            return event.time
        if event.event in CHAMPION_EVENTS and event is not install:
            return None
    return None


def _exposure(answers: Iterable[RequestEvent], clicked: set[str], version: str, start: float, end: float) -> Exposure:
    shown = [
        e.request_id for e in answers
        if e.model_version == version and e.experiment is None and e.request_id and e.status == 200 and start <= e.timestamp < end
    ]  # fmt: skip
    return Exposure(len(shown), sum(request in clicked for request in shown))
