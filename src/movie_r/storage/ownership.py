"""Can this process write the parts of the storage root it writes? One line that says why not.

Containers run as a user of the operator's choosing (compose: MOVIE_R_UID/MOVIE_R_GID) over
a directory of the host's: when the two do not match, every write would fail with its own
traceback. The services check once at start, say so in one line that names the fix, and
wait for it instead of crash-looping.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def storage_problem(home: Path, directories: Iterable[Path]) -> str | None:
    """Create `directories` (parts of the storage root `home`, from `movie_r.storage.layout`) when missing;
    the first one this process cannot write, as one line."""
    for path in directories:
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            return _explain(Path(home), path, exc)
    return None


def _explain(home: Path, path: Path, exc: OSError) -> str:
    where = path if os.path.exists(path) else home  # False, not an error, when home cannot even be searched
    try:
        stat = where.stat()
        owner = f"owned by uid {stat.st_uid} gid {stat.st_gid}"
    except OSError:
        owner = "missing"
    uid, gid = os.getuid(), os.getgid()
    return (
        f"storage root {home} is not writable by this process (uid {uid} gid {gid}): {path}: {exc.strerror or exc}; "
        f"{where} is {owner}. Make it owned by uid {uid} (chown -R {uid}:{gid}), or run the services as its owner "
        f"(docker compose: MOVIE_R_UID and MOVIE_R_GID)"
    )
