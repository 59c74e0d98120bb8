"""The agent with online evaluation on: a challenger that passes the offline gate meets traffic first."""

from __future__ import annotations

from pathlib import Path

from movie_r.answering.interleaving import Team, team_draft
from movie_r.lifecycle import experiments
from movie_r.settings import Settings
from movie_r.storage import journal
from movie_r.storage.experiment_trace import latest_point, read_points
from movie_r.storage.files import utc_now
from movie_r.storage.records import FeedbackEvent, RequestEvent
from movie_r.storage.registry import Registry
from movie_r_agents.decision_log import read_decisions
from movie_r_agents.scheduler import QUIET_WINDOW_JOB_ID, Agent
from movie_r_agents.tick import run_tick

from ..processes import wait_until
from .test_tick import AFTER_A_WEAK_CHAMPION, WORSE, settings_for


def clicks(settings, experiment, n: int, team: Team) -> None:
    """`n` interleaved answers, each with one click on a pick of `team`, as the API records them."""
    for i in range(n):
        answer = team_draft([1, 2, 3], [4, 5, 6], 4, f"q{i}", experiment.id)
        journal.append_record(settings.storage.metrics.events / "t.jsonl", RequestEvent(
            ts=utc_now().timestamp(), request_id=f"q{i}", experiment=experiment.id,
            movies=list(answer.movies), teams=[t.value for t in answer.teams]).model_dump(mode="json"))  # fmt: skip
        movie = next(m for m, t in zip(answer.movies, answer.teams, strict=True) if t is team)
        journal.append_record(settings.storage.metrics.feedback / "t.jsonl", FeedbackEvent(
            time=utc_now(), request_id=f"q{i}", movie_id=movie, action="click").model_dump(mode="json"))  # fmt: skip


def test_a_better_challenger_becomes_the_candidate_and_clicks_promote_it(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path, online="interleave", online_min_effect=0.1, **AFTER_A_WEAK_CHAMPION)
    registry = Registry.of(settings)
    weak = run_tick(settings, params=WORSE)["outcome"]["challenger"]
    started = run_tick(settings, force=True)
    assert started["outcome"]["result"] == "experiment", started
    candidate = started["outcome"]["challenger"]
    assert registry.champion_version() == weak and registry.candidate_version() == candidate
    assert any("passed the offline gate: experiment" in r for r in started["outcome"]["reasons"])

    waiting = run_tick(settings)
    assert waiting["verdict"] == "experiment" and "runs: 0 impressions" in waiting["reasons"][-1]
    clicks(settings, experiments.current(registry), 40, Team.CANDIDATE)
    ended = run_tick(settings)
    assert ended["verdict"] == "experiment" and ended["outcome"]["result"] == "promoted", ended
    assert "online: candidate better" in ended["outcome"]["reasons"][0]
    assert registry.champion_version() == candidate and registry.candidate_version() is None


def test_each_tick_leaves_the_tally_in_the_trace_and_the_ending_closes_it(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path, online="interleave", online_min_effect=0.1, **AFTER_A_WEAK_CHAMPION)
    run_tick(settings, params=WORSE)
    run_tick(settings, force=True)
    experiment = experiments.current(Registry.of(settings))
    trace = settings.storage.metrics.experiment_trace(experiment.id)
    run_tick(settings)
    clicks(settings, experiment, 10, Team.CANDIDATE)
    run_tick(settings)
    clicks(settings, experiment, 40, Team.CANDIDATE)
    run_tick(settings)
    points = read_points(trace)
    assert [p.impressions for p in points] == [0, 10, 50]
    assert [p.wins for p in points] == [0, 10, 50] and points[1].llr_better > points[0].llr_better
    assert [p.ending for p in points] == [None, None, "promoted"] and points[-1].standing == "candidate better"
    assert points[1].upper == points[-1].upper > 0 > points[1].lower
    assert latest_point(trace) == points[-1]


def test_without_any_feedback_the_offline_verdict_stands_after_the_quiet_window(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path, online="interleave", online_quiet_minutes=0, **AFTER_A_WEAK_CHAMPION)
    registry = Registry.of(settings)
    run_tick(settings, params=WORSE)
    candidate = run_tick(settings, force=True)["outcome"]["challenger"]
    ended = run_tick(settings)
    assert ended["outcome"]["result"] == "promoted"
    assert "no online evidence (no feedback in the first window): the offline verdict stands" in ended["outcome"]["reasons"][0]
    assert registry.champion_version() == candidate


def test_the_first_champion_of_an_empty_home_never_waits(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(tmp_path, catalog_path, online="interleave")
    first = run_tick(settings)
    assert first["verdict"] == "first champion" and first["outcome"]["result"] == "promoted"
    assert Registry.of(settings).candidate_version() is None


def answers(settings, version: str, start: float, n: int, clicked_every: int, tag: str) -> None:
    """`n` answers of `version` outside any experiment from `start` on, one in `clicked_every`
    clicked; a microsecond apart, so that those of a champion installed just now are past."""
    for i in range(n):
        journal.append_record(settings.storage.metrics.events / "w.jsonl", RequestEvent(
            ts=start + i * 1e-6, request_id=f"{tag}{i}", model_version=version).model_dump(mode="json"))  # fmt: skip
        if i % clicked_every == 0:
            journal.append_record(settings.storage.metrics.feedback / "w.jsonl", FeedbackEvent(
                time=utc_now(), request_id=f"{tag}{i}", movie_id=1, action="click").model_dump(mode="json"))  # fmt: skip


def promoted_after_a_weak_champion(tmp_path: Path, catalog_path: Path, **changes) -> tuple[Settings, Registry, str, str]:
    settings = settings_for(tmp_path, catalog_path, online_click_delay_seconds=0, **AFTER_A_WEAK_CHAMPION, **changes)
    registry = Registry.of(settings)
    weak = run_tick(settings, params=WORSE)["outcome"]["challenger"]
    better = run_tick(settings, force=True)["outcome"]["challenger"]
    assert registry.champion_version() == better
    return settings, registry, weak, better


def installed_at(registry: Registry, version: str) -> float:
    return next(e.time for e in reversed(registry.events()) if e.event == "promoted" and e.version == version).timestamp()


def test_a_champion_whose_answers_are_clicked_less_is_rolled_back(tmp_path: Path, catalog_path: Path) -> None:
    settings, registry, weak, better = promoted_after_a_weak_champion(tmp_path, catalog_path)
    installed = installed_at(registry, better)
    answers(settings, weak, installed - 3600, 300, 3, "before")  # a third clicked
    answers(settings, better, installed, 300, 10, "after")  # a tenth
    decision = run_tick(settings)
    assert decision["verdict"] == "online regression", decision["reasons"]
    assert registry.champion_version() == weak
    restored = decision["restored"]
    assert restored["event"] == "restored" and restored["reason"].startswith("online_regression: click-through 0.100")
    assert any(e.event == "watch_ended" and e.version == better and e.result == "regressed" for e in registry.events())
    again = run_tick(settings)  # the restored champion is not watched against the one it replaced
    assert not any("watch" in reason for reason in again["reasons"]), again["reasons"]


def test_a_champion_clicked_as_often_holds_and_the_watch_ends(tmp_path: Path, catalog_path: Path) -> None:
    settings, registry, weak, better = promoted_after_a_weak_champion(tmp_path, catalog_path)
    installed = installed_at(registry, better)
    answers(settings, weak, installed - 3600, 300, 3, "before")
    answers(settings, better, installed, 150, 3, "after")
    waiting = run_tick(settings)  # half the baseline's impressions: not looked at yet
    assert any(r.startswith(f"watching champion {better} until") for r in waiting["reasons"]), waiting["reasons"]
    answers(settings, better, installed + 150e-6, 150, 3, "later")
    held = run_tick(settings)
    assert registry.champion_version() == better
    assert any(r.startswith(f"watch of champion {better} ended, held: click-through 0.333") for r in held["reasons"]), held[
        "reasons"
    ]
    assert not any("watch" in reason for reason in run_tick(settings)["reasons"])


def test_with_the_watch_off_nothing_is_looked_at(tmp_path: Path, catalog_path: Path) -> None:
    settings, registry, weak, better = promoted_after_a_weak_champion(tmp_path, catalog_path, online_watch_hours=0)
    installed = installed_at(registry, better)
    answers(settings, weak, installed - 3600, 300, 3, "before")
    answers(settings, better, installed, 300, 100, "after")
    decision = run_tick(settings)
    assert registry.champion_version() == better and not any("watch" in r for r in decision["reasons"])


def test_after_starting_an_experiment_the_agent_looks_again_when_its_quiet_window_ends(tmp_path: Path, catalog_path: Path) -> None:
    settings = settings_for(
        tmp_path, catalog_path, online="interleave", online_quiet_minutes=0.02, agent_interval_seconds=3600, **AFTER_A_WEAK_CHAMPION
    )  # fmt: skip
    registry = Registry.of(settings)
    run_tick(settings, params=WORSE)
    candidate = run_tick(settings, force=True)["outcome"]["challenger"]  # the experiment starts
    agent = Agent(settings)
    agent.scheduler.start()
    try:
        agent._look_again_after_the_quiet_window()  # what a tick that started one does
        job = agent.scheduler.get_job(QUIET_WINDOW_JOB_ID)
        assert job is not None and (job.next_run_time - utc_now()).total_seconds() < 3
        # nobody clicked: that look ends the experiment on the offline verdict, an hour's interval early
        assert wait_until(lambda: registry.champion_version() == candidate, 15), read_decisions(settings)[-1]
    finally:
        # as Agent.run stops it: shutdown(wait=True) holds the job store's lock while it joins the
        # tick's thread, which takes that lock to read its next run time, and both wait for ever
        agent.scheduler.shutdown(wait=False)
        assert agent.idle.wait(30)
    assert "no online evidence (no feedback in the first window)" in read_decisions(settings)[-1].outcome.reasons[0]
