"""The README's console screenshot, taken on the default data.

The suite writes it under its tmp dir; `make screenshot` sets MOVIE_R_SCREENSHOT to
docs/console.png to regenerate the one the README shows.

The storage root goes through a short real history first (a content-only champion, a
hybrid challenger promoted by a retrain, a worse one rejected, an agent tick that finds
nothing to do, some traffic, then an experiment serving the rejected one beside the champion,
clicked on and tallied by a few ticks), so every panel has something to show.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest

from movie_r.lifecycle import experiments
from movie_r.storage.experiment_trace import ExperimentPoint, latest_point
from movie_r.storage.layout import MetricsLayout
from movie_r.storage.records import Event
from movie_r.storage.registry import Registry

from ..processes import movie_r_process, start_api, stop, wait_until
from .test_console import cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUERIES = ["toy story", "the matrix", "amelie", "godfather", "heat", "star wars", "harry poter", "incepshun",
           "jurassic park", "a film that is not there", "titanic", "pulp fiction", "alien", "fargo"]  # fmt: skip


def test_the_console_on_the_default_data(tmp_path: Path, open_console) -> None:
    home = tmp_path / "home"
    # the history's retrains promote or reject at once; the experiment the panel shows is started by hand
    env = {
        "MOVIE_R_AGENT_INTERVAL_SECONDS": "3600",
        "MOVIE_R_AGENT_JITTER_SECONDS": "0",
        "MOVIE_R_ONLINE": "off",
        "MOVIE_R_EVENTS_FLUSH_INTERVAL": "0.1",  # the ticks below tally what the API wrote a moment before
    }
    cli(home, env, "train", "--model", "tfidf")
    cli(home, env, "retrain", "--model", "hybrid")  # ratings unused by the champion: retrain, promoted
    cli(home, env, "retrain", "--force", "--model", "popularity")  # worse: rejected
    agent = movie_r_process(["agent"], home, env)
    api, url = start_api(home, env)
    try:
        for i in range(60):
            httpx.get(f"{url}/recommend", params={"movie": QUERIES[i % len(QUERIES)], "k": 10})
        assert wait_until(lambda: (home / "metrics" / "agent.json").exists(), timeout=30)
        console = open_console(url)
        console.page.wait_for_function("() => document.querySelector('#now').innerText.includes('alive')", timeout=30_000)
        console.page.wait_for_function(
            "() => document.querySelector('#decisions').innerText.includes('no retrain')", timeout=60_000
        )
        history = console.text("#history")
        assert "rejected" in history and "champion" in history
        assert "(hybrid)" in console.text("#now")
        assert "No experiment has run" in console.text("#experiment")
        last = run_an_experiment(home, env, url)
        counted = f"{last.impressions}, {last.clicked_impressions} with clicks"
        console.page.wait_for_function(f"() => document.querySelector('#experiment').innerText.includes('{counted}')")
        panel = console.page.locator("#experiment")
        assert panel.is_visible() and panel.locator("svg polyline").count() == 2
        shown = panel.inner_text()
        assert "running: continue" in shown and f"candidate {last.wins} · champion {last.losses}" in shown
        console.page.get_by_label("Movie title or description").fill("toy story")
        console.page.get_by_role("button", name="Recommend").click()
        console.page.wait_for_selector("#try-list li")
        assert console.errors == []
        screenshot = Path(os.environ.get("MOVIE_R_SCREENSHOT") or tmp_path / "console.png")
        console.page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 10_000
    finally:
        stop(api)
        stop(agent)


def run_an_experiment(home: Path, env: dict[str, str], url: str, ticks: int = 3) -> ExperimentPoint:
    """The rejected version served beside the champion (`movie-r experiment start`), people
    clicking some of the interleaved answers, and agent ticks tallying them between rounds;
    the last tally."""
    rejected = next(e.version for e in reversed(Registry(home / "models").events()) if e.event is Event.REJECTED)
    cli(home, env, "experiment", "start", rejected)
    assert wait_until(lambda: "x-experiment" in httpx.get(f"{url}/recommend", params={"movie": "heat"}).headers, timeout=30)
    for tick in range(ticks):
        for i in range(16):
            answer = httpx.get(f"{url}/recommend", params={"movie": QUERIES[(i + tick) % len(QUERIES)], "k": 10}).json()
            movies = [item["id"] for item in answer["recommendations"]]
            if movies and i % 3 != 2:  # two answers in three clicked, at a varying position
                clicked = {"request_id": answer["request_id"], "movie_id": movies[(i + tick) % len(movies)], "action": "click"}
                assert httpx.post(f"{url}/feedback", json=clicked).status_code == 201
        time.sleep(0.5)  # a few flushes of the API's events
        cli(home, env, "agent", "--once")
    running = experiments.current(Registry(home / "models"))
    assert running is not None, "the experiment ended: the clicks decided it"
    last = latest_point(MetricsLayout(home / "metrics").experiment_trace(running.id))
    assert last is not None and last.clicked_impressions > 0
    return last
