"""Signals fitted once and shared by the blends of one tuning run."""

from __future__ import annotations

import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone

from movie_r.recommenders.evidence import Evidence


class SharedSignals:
    """Evidence and fitted signals by what they were fitted on and with, for blends that share them.

    Tuning fits dozens of blends on each validation fold, and most of their signals repeat
    (the hybrid grid varies weights around one item-kNN, EASE or RP3beta; an EASE's inverse
    is most of a fit): a blend handed the same `SharedSignals` takes a signal with the same
    parameters, fitted on the same matrix and ratings, instead of fitting its own. Signals
    are read-only once fitted, so sharing one changes no score. Inputs are matched by
    identity, and held, so an id is never reused for other data while the cache lives; it
    holds what it fitted until dropped (tuning keeps one per group of grid points).
    """

    def __init__(self) -> None:
        self._inputs: dict[int, object] = {}
        self._evidence: dict[tuple[int, int], Evidence] = {}
        self._signals: dict[tuple[int, int, str], BaseEstimator] = {}

    def evidence(self, catalog: pd.DataFrame, interactions: pd.DataFrame | None) -> Evidence:
        key = (self._held(catalog), self._held(interactions))
        if key not in self._evidence:
            self._evidence[key] = Evidence.of(catalog, interactions)
        return self._evidence[key]

    def fitted(self, signal: BaseEstimator | None, X: sp.spmatrix, evidence: Evidence) -> BaseEstimator | None:
        """`signal` fitted on `X` and `evidence` (a clone; `signal` itself stays unfitted)."""
        if signal is None:
            return None
        key = (self._held(X), self._held(evidence), f"{type(signal).__qualname__}{sorted(signal.get_params().items())!r}")
        if key not in self._signals:
            self._signals[key] = clone(signal).fit(X, evidence=evidence)
        return self._signals[key]

    def _held(self, value: object) -> int:
        self._inputs.setdefault(id(value), value)
        return id(value)
