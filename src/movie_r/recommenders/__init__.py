"""The recommenders: scikit-learn estimators of every kind, their text features and the neighbour kernels they share.

Imports `data` and the foundation; never answering, lifecycle or storage policy."""
