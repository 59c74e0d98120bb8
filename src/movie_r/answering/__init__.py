"""Answering a request: resolving what people type to catalogue rows, ranking, and the precomputed answer lists.

Imports `recommenders`, `data` and `storage`."""
