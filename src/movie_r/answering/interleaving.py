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


TEAMS = (Team.CHAMPION, Team.CANDIDATE)  # by index: 0 the champion, 1 the candidate


def team_draft(champion: Sequence[int], candidate: Sequence[int], k: int, request_id: str, experiment: str) -> Interleaved:
    """Interleave two rankings (best first) into at most `k` distinct movies.

    Written with plain locals, teams by index (`TEAMS`): it runs on every answer an
    experiment serves."""
    lists = (champion, candidate)
    lengths = (len(champion), len(candidate))
    cursor = [0, 0]
    drafted = [0, 0]
    movies: list[int] = []
    picked: list[Team] = []
    seen: set[int] = set()
    flips = iter(coins(request_id, experiment, k))
    while len(movies) < k:
        # the team behind picks; a coin decides between equals (True: the candidate)
        first = int(drafted[0] > drafted[1]) if drafted[0] != drafted[1] else int(next(flips, False))
        for team in (first, 1 - first):  # a team with nothing left lets the other one draft
            ranking, position = lists[team], cursor[team]
            while position < lengths[team] and ranking[position] in seen:
                position += 1
            cursor[team] = position
            if position < lengths[team]:
                break
        else:
            break
        movie = lists[team][cursor[team]]
        movies.append(movie)
        picked.append(TEAMS[team])
        seen.add(movie)
        drafted[team] += 1
    both = set(champion) & set(candidate)
    return Interleaved(tuple(movies), tuple(picked), tuple(movie in both for movie in movies))
