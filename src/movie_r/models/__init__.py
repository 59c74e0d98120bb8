"""Recommender estimators: each the final step of a scikit-learn Pipeline."""
