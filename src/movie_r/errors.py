"""Exception classes whose messages a user can act on; the CLI prints them as one line."""

from __future__ import annotations


class MovieRError(Exception):
    """Base class: anything movie_r refuses on purpose, with a reason meant for people."""


class SettingsError(MovieRError):
    """`MOVIE_R_*` variables or command-line values that do not validate; one line each."""


class DataError(MovieRError):
    """A catalogue or interactions file that cannot be used as it is."""


class ArtifactError(MovieRError):
    """A model version that is missing, incomplete or fails its checksum."""


class QueryError(MovieRError):
    """A recommendation request with an unusable parameter.

    `parameter` names the offending input so the API can answer 422 about it.
    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class UnknownMovieError(MovieRError):
    """A movie id that the model's catalogue does not contain."""


class Cancelled(MovieRError):
    """A long step stopped at a checkpoint because its caller asked it to (a signal, shutdown)."""


class EngineError(MovieRError):
    """A training engine that cannot run: pyspark or Java missing, a master out of reach, a failed job."""
