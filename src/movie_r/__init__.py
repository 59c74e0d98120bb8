"""movie_r: a movie recommender that runs its own machine-learning lifecycle."""

__version__ = "0.1.0"
