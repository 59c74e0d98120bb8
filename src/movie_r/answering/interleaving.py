"""Team-draft interleaving (Radlinski, Kurup & Joachims, CIKM 2008): one list from two rankings.

Each round, the team that has contributed fewer movies picks next (a coin decides a tie); it
adds its best movie not already in the list. A click on a movie is credited to the team that
drafted it, so the team whose picks are clicked more often ranks better for that person,
whatever position bias the list has: both teams get the top positions equally often.

The coin is a hash of the request id and the experiment, not a random generator: the same
request asked on any replica gets the same list, and the credit of a later click can be
recomputed from the request alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Team(StrEnum):
    """Which model put a movie into an interleaved list."""

    CHAMPION = "champion"
    CANDIDATE = "candidate"


@dataclass(frozen=True)
class Interleaved:
    """The merged list, who drafted each position, and which positions both models listed."""

    movies: tuple[int, ...]
    teams: tuple[Team, ...]
    shared: tuple[bool, ...]  # the movie is in both models' own lists (a pick either would have made)

    def credit(self, clicked: Sequence[int]) -> Team | None:
        """The impression's winner from the movies clicked in it: the team with more clicked
        picks, or None for a tie (including no click on either team's picks)."""
        wins = {Team.CHAMPION: 0, Team.CANDIDATE: 0}
        team_of = dict(zip(self.movies, self.teams, strict=True))
        for movie in set(clicked):
            if movie in team_of:
                wins[team_of[movie]] += 1
        if wins[Team.CHAMPION] == wins[Team.CANDIDATE]:
            return None
        return Team.CHAMPION if wins[Team.CHAMPION] > wins[Team.CANDIDATE] else Team.CANDIDATE


def coins(request_id: str, experiment: str, rounds: int) -> list[bool]:
    """`rounds` fair coin flips derived from the request and the experiment (True: the
    candidate picks first in that round's tie)."""
    digest = hashlib.blake2b(f"{experiment}:{request_id}".encode(), digest_size=32).digest()
    while len(digest) * 8 < rounds:
        digest += hashlib.blake2b(digest, digest_size=32).digest()
    return [bool(digest[i // 8] >> (i % 8) & 1) for i in range(rounds)]


def team_draft(champion: Sequence[int], candidate: Sequence[int], k: int, request_id: str, experiment: str) -> Interleaved:
    """Interleave two rankings (best first) into at most `k` distinct movies."""
    lists = {Team.CHAMPION: list(champion), Team.CANDIDATE: list(candidate)}
    both = set(champion) & set(candidate)
    cursor = {Team.CHAMPION: 0, Team.CANDIDATE: 0}
    drafted = {Team.CHAMPION: 0, Team.CANDIDATE: 0}
    movies: list[int] = []
    teams: list[Team] = []
    seen: set[int] = set()
    flips = iter(coins(request_id, experiment, k))

    def next_pick(team: Team) -> int | None:
        ranking = lists[team]
        while cursor[team] < len(ranking) and ranking[cursor[team]] in seen:
            cursor[team] += 1
        return ranking[cursor[team]] if cursor[team] < len(ranking) else None

    while len(movies) < k:
        if drafted[Team.CHAMPION] != drafted[Team.CANDIDATE]:
            team = Team.CHAMPION if drafted[Team.CHAMPION] < drafted[Team.CANDIDATE] else Team.CANDIDATE
        else:
            team = Team.CANDIDATE if next(flips, False) else Team.CHAMPION
        movie = next_pick(team)
        if movie is None:  # this team has nothing left: the other one drafts
            team = Team.CANDIDATE if team is Team.CHAMPION else Team.CHAMPION
            movie = next_pick(team)
            if movie is None:
                break
        movies.append(movie)
        teams.append(team)
        seen.add(movie)
        drafted[team] += 1
    return Interleaved(tuple(movies), tuple(teams), tuple(movie in both for movie in movies))
