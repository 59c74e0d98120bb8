"""The `movie-r` command line (services add their own commands through entry points).

The top layer: may import every other part of the core."""
