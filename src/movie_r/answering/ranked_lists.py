"""Every movie's default answer, ranked and serialised once, when its version is saved.

Most /recommend traffic names a catalogue movie with the default `k` and no filters, and
that list depends on the movie alone. Ranking and explaining it (reasons, co-likes,
serialising) would otherwise be paid again by each API worker for every movie it meets
after a restart or a swap; saved with the version, it is paid once, by the trainer, and a
worker only checks and loads a few arrays (docs/benchmarks.md, "Serving under load", for the figures).

Two files of plain arrays, read with `allow_pickle=False`, so nothing in them can execute
on load: `lists.npz` (offsets, scores, counts; compressed) and `lists.body.npy`, every
list's JSON bytes back to back, memory-mapped read-only: it grows with the catalogue, and mapped, the API workers of one machine share one copy of it through
the page cache. Versions saved with the bytes inside `lists.npz` (format 1) still load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import orjson

from movie_r.answering.inference import DEFAULT_K, Filters, Recommendation, Recommender
from movie_r.errors import ArtifactError
from movie_r.progress import progress
from movie_r.storage.registry import ModelVersion

log = logging.getLogger(__name__)

LISTS = "lists.npz"
BODY = "lists.body.npy"
FORMAT = 2  # written: the JSON bytes in BODY
FORMATS = {1, FORMAT}  # read: 1 had them inside LISTS. Another format is not used


class Ranked(NamedTuple):
    """One movie's recommendations as the JSON list /recommend sends, and their scores."""

    body: bytes
    scores: tuple[float, ...]


def ranked(recommendations: list[Recommendation]) -> Ranked:
    # orjson reads dataclasses itself: no asdict deep copy
    return Ranked(orjson.dumps(recommendations), tuple(item.score for item in recommendations))


@dataclass(frozen=True)
class RankedLists:
    """The `k` recommendations of every catalogue row, without filters, back to back."""

    k: int
    body: np.ndarray  # uint8: every row's JSON list, concatenated (memory-mapped once loaded)
    offsets: np.ndarray  # row i is body[offsets[i]:offsets[i + 1]]
    scores: np.ndarray  # (rows, k) float64, NaN after a row's last recommendation
    counts: np.ndarray  # recommendations in each row's list

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, row: int) -> Ranked:
        start, stop = self.offsets[row : row + 2].tolist()
        return Ranked(self.body[start:stop].tobytes(), tuple(self.scores[row, : self.counts[row]].tolist()))

    def save(self, path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez_compressed(
                handle, format=np.int64(FORMAT), k=np.int64(self.k), offsets=self.offsets, scores=self.scores, counts=self.counts
            )

    def save_body(self, path: Path) -> None:
        with open(path, "wb") as handle:
            np.save(handle, self.body, allow_pickle=False)


def build(recommender: Recommender, k: int = DEFAULT_K) -> RankedLists:
    """Rank every row with `Recommender.similar`, the same call a request without the lists makes.

    Each row's bytes go straight into one growing buffer and its scores into the array: a
    list of every row's bytes, joined at the end, held the body twice at its peak.
    """
    no_filters = Filters()
    n_rows = len(recommender)
    body = bytearray()
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    scores = np.full((n_rows, k), np.nan)
    counts = np.zeros(n_rows, dtype=np.int64)
    for row in progress(range(n_rows), total=n_rows, desc="lists"):
        item = ranked(recommender.similar(row, k, no_filters))
        body += item.body
        offsets[row + 1] = len(body)
        counts[row] = len(item.scores)
        scores[row, : counts[row]] = item.scores
    return RankedLists(k=k, body=np.frombuffer(body, dtype=np.uint8), offsets=offsets, scores=scores, counts=counts)


def load(version: ModelVersion, rows: int) -> RankedLists | None:
    """The version's lists, checked against its manifest and its catalogue size of `rows`.

    None when the version has none (saved before they existed) or has them in another
    format; answers are then computed on demand. A file that fails its checksum or does
    not fit the catalogue raises `ArtifactError`, like a bad pipeline.
    """
    path = version.verified_file(LISTS)
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as arrays:
            if int(arrays["format"]) not in FORMATS:
                log.warning("version=%s %s has format %s, not one of %s; not used", version.version, LISTS, arrays["format"], FORMATS)
                return None
            body = arrays["body"] if int(arrays["format"]) == 1 else _mapped(version)
            lists = RankedLists(
                k=int(arrays["k"]), body=body, offsets=arrays["offsets"], scores=arrays["scores"], counts=arrays["counts"]
            )
    except (OSError, ValueError, KeyError) as exc:
        raise ArtifactError(f"version {version.version}: cannot read {LISTS}: {exc}") from exc
    if len(lists) != rows or lists.offsets[-1] != len(lists.body):
        raise ArtifactError(f"version {version.version}: {LISTS} holds {len(lists)} movies, the model {rows}")
    return lists


def _mapped(version: ModelVersion) -> np.ndarray:
    """The JSON bytes file, verified, then memory-mapped read-only."""
    path = version.verified_file(BODY)
    if path is None:
        raise ArtifactError(f"version {version.version}: {LISTS} refers to {BODY}, which its manifest does not list")
    body = np.load(path, mmap_mode="r", allow_pickle=False)
    if body.dtype != np.uint8 or body.ndim != 1:
        raise ArtifactError(f"version {version.version}: {BODY} holds {body.dtype} in {body.ndim} dimensions, not bytes")
    return np.asarray(body)  # a plain array over the same mapping: `memmap` slices through Python code
