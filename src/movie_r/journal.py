"""JSON-lines files under the storage root: complete appends, size rotation, age retention.

An append is acknowledged only once every byte is written (and, where asked, synced):
`os.write` may write less than it was given on a nearly full disk, and a fragment left by
a failed or killed writer would swallow the next record into one unreadable line. So a
writer first ends any unterminated tail with a newline (the fragment is then skipped on
read, the new record stays whole), then writes in a loop, and reports a short write as
the `OSError` it is.

Files rotate by size to `<stem>.<ns>.jsonl`; files (rotated or a finished process's own)
last written before the retention period are deleted, so nothing the services write grows
without bound.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path


def append(path: Path, data: bytes, sync: bool = False) -> None:
    """Append `data` (whole lines) to `path` completely, or raise `OSError`."""
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(descriptor).st_size
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            data = b"\n" + data  # end the torn record a crashed writer left
        view = memoryview(data)
        while view:
            written = os.write(descriptor, view)
            if written == 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            view = view[written:]
        if sync:
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def rotate_if_large(path: Path, max_bytes: int, retention_days: float) -> bool:
    """Rename `path` aside once it reaches `max_bytes`, then delete its directory's expired
    files (`remove_expired`); True when it rotated."""
    try:
        if path.stat().st_size < max_bytes:
            return False
    except FileNotFoundError:
        return False
    os.rename(path, path.with_name(f"{path.stem}.{time.time_ns()}.jsonl"))
    remove_expired(path.parent, retention_days, keep=path)
    return True


def remove_expired(directory: Path, retention_days: float, keep: Path | None = None) -> list[Path]:
    """Delete every `*.jsonl` in `directory` last written before the retention period, but `keep`."""
    horizon = time.time() - retention_days * 86400
    removed = []
    for path in Path(directory).glob("*.jsonl"):
        if path == keep:
            continue
        try:
            if path.stat().st_mtime < horizon:
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # another process removed it first
    return removed
