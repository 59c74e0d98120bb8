"""Why not to retrain now, although a trigger fired: the rules that bound what the agent
spends on the same data, and on what clients alone can make it do."""

from __future__ import annotations

from datetime import timedelta

from movie_r.settings import Settings
from movie_r.storage.files import utc_now
from movie_r.storage.records import Event, TickVerdict
from movie_r.storage.registry import Registry
from movie_r_agents.decision_log import read_decisions
from movie_r_agents.triggers import CLIENT_FED_TRIGGERS, TriggerCheck


def cooldown(settings: Settings, registry: Registry, key: str) -> str | None:
    """Why not to retrain yet: a challenger on this same data was rejected recently."""
    horizon = utc_now() - timedelta(hours=settings.cooldown_hours)
    for event in reversed(registry.events()):
        if event.event == Event.REJECTED and event.data_key == key:
            if event.time > horizon:
                until = event.time + timedelta(hours=settings.cooldown_hours)
                return f"cooldown: a challenger on this same data was rejected at {event.time.isoformat()}; next try after {until.isoformat()}"
            return None
    return None


def client_budget_spent(settings: Settings, fired: list[TriggerCheck]) -> str | None:
    """Why not to retrain now: only triggers clients feed fired, and they have started as many
    retrains in the last day as `client_retrains_per_day` allows (what a burst of traffic or
    feedback can make the agent spend is bounded; data, age and forced retrains are not)."""
    if not fired or any(t.name not in CLIENT_FED_TRIGGERS for t in fired):
        return None
    horizon = utc_now() - timedelta(days=1)
    started = [
        d.time
        for d in read_decisions(settings)
        if d.verdict == TickVerdict.RETRAIN and not d.forced and d.time is not None and d.time > horizon
        and {t.name for t in d.triggers if t.fired} and all(t.name in CLIENT_FED_TRIGGERS for t in d.triggers if t.fired)
    ]  # fmt: skip
    if len(started) < settings.client_retrains_per_day:
        return None
    until = min(started) + timedelta(days=1) if started else horizon
    return (
        f"{len(started)} retrains in the last 24 h came from triggers clients feed (limit MOVIE_R_CLIENT_RETRAINS_PER_DAY="
        f"{settings.client_retrains_per_day}); next one after {until.isoformat()}"
    )
