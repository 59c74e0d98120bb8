"""What each version is now, read from the registry's event log: one vocabulary for both.

Events (`models/registry.jsonl`) say what happened to `version`:
    trained    saved as a new version
    evaluated  scored against the champion of the moment
    promoted   made champion (`previous` names the champion it replaced)
    rejected   judged and not promoted
    restored   made champion again by a rollback (`previous` names the champion it replaced);
               written as `rolled_back` before, which is read the same way
    removed    deleted by retention
    failed     a training that did not finish (no version)
    experiment_started / experiment_ended
               an online experiment of `version` (the candidate) against `previous`
    watch_ended
               the watch after `version` became champion looked at its clicks: held or regressed

Statuses (`movie-r models`) say what a version is now:
    champion   what `models/champion` points at
    candidate  what `models/candidate` points at: served beside the champion in an online experiment
    previous   what `movie-r rollback` would restore
    retired    was champion once, is neither of the above
    rejected   judged and never champion
    trained    saved and never judged (a manual `movie-r train`)
"""

from __future__ import annotations

from enum import StrEnum

from movie_r.storage.records import Event, RegistryEvent
from movie_r.storage.registry import Registry

CHAMPION_EVENTS = (Event.PROMOTED, Event.RESTORED, Event.ROLLED_BACK)


class Status(StrEnum):
    """What a version is now (the table above)."""

    CHAMPION = "champion"
    CANDIDATE = "candidate"
    PREVIOUS = "previous"
    RETIRED = "retired"
    REJECTED = "rejected"
    TRAINED = "trained"


def previous_champion(registry: Registry) -> str | None:
    """The champion before the current one, from the event that installed the current one."""
    current = registry.champion_version()
    for event in reversed(registry.events()):
        if event.event in CHAMPION_EVENTS and event.version == current:
            return event.previous
    return None


def former_champions(registry: Registry) -> list[str]:
    """Versions that were champion, most recently installed first, each once."""
    seen: list[str] = []
    for event in reversed(registry.events()):
        version = event.version
        if event.event in CHAMPION_EVENTS and version is not None and version not in seen:
            seen.append(version)
    return seen


def statuses(registry: Registry, events: list[RegistryEvent] | None = None) -> dict[str, Status]:
    """Status of every version the event log or the champion link mentions."""
    events = registry.events() if events is None else events
    found: dict[str, Status] = {}
    for event in events:
        version = event.version
        if version is None:
            continue
        if event.event in CHAMPION_EVENTS:
            found[version] = Status.RETIRED
        elif event.event == Event.REJECTED and found.get(version) != Status.RETIRED:
            found[version] = Status.REJECTED
        else:
            found.setdefault(version, Status.TRAINED)
    previous = previous_champion(registry)
    if previous is not None:
        found[previous] = Status.PREVIOUS
    candidate = registry.candidate_version()
    if candidate is not None:
        found[candidate] = Status.CANDIDATE
    champion = registry.champion_version()
    if champion is not None:
        found[champion] = Status.CHAMPION
    return found
