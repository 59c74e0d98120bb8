"""Strings within one edit of a query, found by table lookups instead of scoring every string.

SymSpell's idea at distance one: two strings are one insertion, deletion, substitution or
transposition apart only if one is the other, one is the other less a character, or both
give the same string less one character each. So every string is entered under itself and
its one-character deletions, and a query looks up its own: one binary search per
deletion, whatever the number of strings. Entries are hashes (Python's `hash` of the
string, so the table is only valid in the process that built it), each an int64 and an
int32 owner in sorted numpy arrays: a few bytes per character of every string, and no
dictionary of hundreds of thousands of Python strings. A hash collision can only add a
candidate, never lose one; callers score what they get.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class DeletionIndex:
    """The strings, by position, that could be within one edit of a query."""

    def __init__(self, strings: Sequence[str]) -> None:
        hashes: list[int] = []
        owners: list[int] = []
        for owner, text in enumerate(strings):
            variants = set(_variants(text))
            hashes.extend(map(hash, variants))
            owners.extend([owner] * len(variants))
        all_hashes = np.array(hashes, dtype=np.int64)
        order = np.argsort(all_hashes, kind="stable")
        distinct, first = np.unique(all_hashes[order], return_index=True)  # each with its run of owners
        # A last entry past every hash, its run empty: a search never falls off the end
        self._hashes = np.append(distinct, np.iinfo(np.int64).max)
        self._starts = [*first.tolist(), len(order), len(order)]
        self._owners = np.array(owners, dtype=np.int32)[order]

    def candidates(self, query: str) -> list[int]:
        """Positions of the strings that share the query or one of its deletions, ascending."""
        wanted = np.fromiter(map(hash, _variants(query)), dtype=np.int64)
        at = self._hashes.searchsorted(wanted)  # the method: `np.searchsorted` costs more than the search
        found: set[int] = set()
        starts, owners = self._starts, self._owners
        for run in at[self._hashes[at] == wanted].tolist():
            found.update(owners[starts[run] : starts[run + 1]].tolist())
        return sorted(found)


def _variants(text: str) -> list[str]:
    """`text` and every string it gives less one character (repeats kept: cheaper than a set)."""
    variants = [text[:i] + text[i + 1 :] for i in range(len(text))]
    variants.append(text)
    return variants
