"""Team-draft interleaving: fair drafting, determinism per request, credit to the drafting team."""

from __future__ import annotations

from collections import Counter

from movie_r.answering.interleaving import Team, coins, team_draft


def test_the_same_request_gets_the_same_list_and_another_request_may_not():
    a, b = [1, 2, 3, 4, 5], [6, 7, 8, 9, 10]
    first = team_draft(a, b, 5, "req-1", "exp")
    assert team_draft(a, b, 5, "req-1", "exp") == first
    lists = {team_draft(a, b, 5, f"req-{i}", "exp").movies for i in range(50)}
    assert len(lists) > 1


def test_each_team_drafts_its_own_best_first_and_the_teams_stay_balanced():
    a, b = [1, 2, 3, 4, 5, 6], [11, 12, 13, 14, 15, 16]
    for i in range(40):
        merged = team_draft(a, b, 6, f"r{i}", "e")
        counts = Counter(merged.teams)
        assert counts[Team.CHAMPION] == counts[Team.CANDIDATE] == 3
        assert [m for m, t in zip(merged.movies, merged.teams, strict=True) if t is Team.CHAMPION] == [1, 2, 3]
        assert [m for m, t in zip(merged.movies, merged.teams, strict=True) if t is Team.CANDIDATE] == [11, 12, 13]


def test_the_first_pick_goes_to_either_team_about_half_the_time():
    firsts = Counter(team_draft([1, 2], [3, 4], 2, f"request-{i}", "e").teams[0] for i in range(2000))
    assert 900 < firsts[Team.CANDIDATE] < 1100


def test_a_movie_both_rank_is_listed_once_and_marked_shared():
    merged = team_draft([1, 2, 3], [2, 1, 4], 4, "r", "e")
    assert sorted(merged.movies) == [1, 2, 3, 4]
    assert dict(zip(merged.movies, merged.shared, strict=True)) == {1: True, 2: True, 3: False, 4: False}


def test_a_team_that_runs_out_leaves_the_rest_to_the_other():
    merged = team_draft([1], [5, 6, 7, 8], 4, "r", "e")
    assert sorted(merged.movies) == [1, 5, 6, 7]
    assert merged.teams.count(Team.CHAMPION) == 1


def test_credit_goes_to_the_team_with_more_clicked_picks():
    merged = team_draft([1, 2, 3], [4, 5, 6], 6, "r", "e")
    champion_pick = next(m for m, t in zip(merged.movies, merged.teams, strict=True) if t is Team.CHAMPION)
    candidate_picks = [m for m, t in zip(merged.movies, merged.teams, strict=True) if t is Team.CANDIDATE]
    assert merged.credit([champion_pick]) is Team.CHAMPION
    assert merged.credit(candidate_picks[:2] + [champion_pick]) is Team.CANDIDATE
    assert merged.credit([champion_pick, candidate_picks[0]]) is None
    assert merged.credit([]) is None
    assert merged.credit([999]) is None  # not in the list: no credit


def test_coins_are_fair_and_stable():
    flips = coins("some-request", "exp-1", 4000)
    assert flips == coins("some-request", "exp-1", 4000)
    assert 1850 < sum(flips) < 2150
    assert flips != coins("some-request", "exp-2", 4000)
