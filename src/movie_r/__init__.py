"""movie_r: a movie recommender that runs its own machine-learning lifecycle."""
