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

Every JSON-lines file under the storage root is written with `append_record` (or `append`
of `encode`d records) and read with `read_records`: one encoder (orjson; numpy numbers
as numbers, anything else JSON lacks as its string), one tolerant reader that skips and
counts a line it cannot parse (the torn tail of a crashed writer) instead of failing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pydantic_core
from pydantic import BaseModel


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


def encode(record: dict[str, Any] | BaseModel) -> bytes:
    """One record (a dict, or a typed record of `movie_r.storage.records`) as one JSON line, newline included.

    Raises `TypeError` for a value JSON cannot hold.
    """
    if isinstance(record, BaseModel):
        try:
            return pydantic_core.to_json(record) + b"\n"
        except pydantic_core.PydanticSerializationError as exc:
            raise TypeError(str(exc)) from None
    return orjson.dumps(record, default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE)


def append_record(path: Path, record: dict[str, Any] | BaseModel, sync: bool = False) -> None:
    """Append one record as one complete JSON line, or raise `OSError`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    append(path, encode(record), sync)


@dataclass
class Records:
    """What a JSON-lines file held: its records, and how many lines could not be read."""

    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0

    def add_lines(self, data: bytes) -> None:
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                self.skipped += 1  # a torn line of a crashed writer
                continue
            if isinstance(record, dict):
                self.records.append(record)
            else:
                self.skipped += 1


def read_records(path: Path) -> Records:
    """Every record of `path` (none when it does not exist); unreadable lines are skipped and counted."""
    found = Records()
    with contextlib.suppress(FileNotFoundError):
        found.add_lines(path.read_bytes())
    return found


def files_written_since(directory: Path, cutoff: float) -> Iterator[Path]:
    """The `*.jsonl` files of `directory` last written at or after `cutoff` (a timestamp), by name."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.jsonl")):
        try:
            if path.stat().st_mtime >= cutoff:
                yield path
        except OSError:
            continue  # rotated or expired meanwhile
