"""Changing the champion on purpose: promotion, rollback, and pruning old versions.

Each change is one atomic replacement of the relative `models/champion` symlink (the API
replicas pick it up on their own) and one line in `models/registry.jsonl`.
"""

from __future__ import annotations

import logging
from typing import Any

from movie_r.errors import ArtifactError
from movie_r.lineage import previous_champion
from movie_r.registry import Registry

log = logging.getLogger("agents.promotion")


def promote(registry: Registry, version: str, reason: str, **details: Any) -> dict[str, Any]:
    """Make `version` champion after verifying its artifact; the old champion is recorded as previous."""
    registry.get(version).load()  # refuse what would not load: checksum, unpickling
    previous = registry.champion_version()
    registry.set_champion(version)
    log.info("promoted version=%s previous=%s reason=%r", version, previous, reason)
    return registry.record("promoted", version, previous=previous, reason=reason, **details)


def rollback(registry: Registry, reason: str = "manual rollback") -> dict[str, Any]:
    """Return to the previous champion (verified first), and record it."""
    current = registry.champion_version()
    target = previous_champion(registry)
    if target is None:
        raise ArtifactError(f"no previous champion recorded for {current}; nothing to roll back to")
    registry.get(target).load()
    registry.set_champion(target)
    log.info("rolled back from=%s to=%s", current, target)
    return registry.record("restored", target, previous=current, reason=reason)


def apply_retention(registry: Registry, keep: int) -> list[str]:
    """Remove all but the newest `keep` versions; never the champion or the previous champion."""
    versions = [v.version for v in registry.versions()]
    protected = {registry.champion_version(), previous_champion(registry)}
    removable = [v for v in versions[: max(0, len(versions) - keep)] if v not in protected]
    for version in removable:
        registry.remove(version)
        registry.record("removed", version, reason=f"retention: keep the newest {keep} versions")
    return removable
