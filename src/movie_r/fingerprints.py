"""SHA-256 of a file's bytes: how versions, the agent and `movie-r status` tell files apart.

Kept apart from `movie_r.data` so that what only compares files (the registry, `status`,
`models`) does not import pandas to do it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_fingerprint(path: Path) -> str:
    """SHA-256 of the file's bytes: how the agent tells that training data changed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
