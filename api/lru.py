"""A least-recently-used memo bounded by entries *and* by bytes.

`functools.lru_cache` bounds only the number of entries, so entries whose keys or values
a client makes large (long query strings, long `exclude` lists) let one worker grow
without limit. Here every entry is charged an estimate of its bytes, and the oldest
entries leave until both bounds hold. Used from one thread at a time (the event loop, or
the watcher before a model is published), so it takes no lock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import _CacheInfo
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

ENTRY_OVERHEAD = 200  # bytes of dict slot, tuple and object headers charged to every entry


class BoundedMemo(Generic[K, V]):
    """`memo(key)` computes `compute(*key)` once and keeps it while it fits; errors are not kept."""

    def __init__(
        self, compute: Callable[..., V], max_entries: int, max_bytes: int, size_of: Callable[[K, V], int]
    ) -> None:
        self.compute = compute
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size_of = size_of
        self.bytes = 0
        self.hits = self.misses = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __call__(self, *key: object) -> V:
        entries = self._entries
        found = entries.get(key)  # type: ignore[arg-type]
        if found is not None:
            entries.move_to_end(key)  # type: ignore[arg-type]
            self.hits += 1
            return found[0]
        self.misses += 1
        value = self.compute(*key)
        if self.max_entries > 0:
            size = self.size_of(key, value) + ENTRY_OVERHEAD  # type: ignore[arg-type]
            if size <= self.max_bytes:
                entries[key] = (value, size)  # type: ignore[index]
                self.bytes += size
                while len(entries) > self.max_entries or self.bytes > self.max_bytes:
                    self.bytes -= entries.popitem(last=False)[1][1]
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def cache_info(self) -> _CacheInfo:
        """The same report as `functools.lru_cache`'s."""
        return _CacheInfo(self.hits, self.misses, self.max_entries, len(self._entries))
