"""The README's console screenshot, taken on the default data.

The suite writes it under its tmp dir; `make screenshot` sets MOVIE_R_SCREENSHOT to
docs/console.png to regenerate the one the README shows.

The storage root goes through a short real history first (a content-only champion, a
hybrid challenger promoted by a retrain, a worse one rejected, an agent tick that finds
nothing to do, some traffic), so every panel has something to show.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from ..processes import movie_r_process, start_api, stop, wait_until
from .test_console import cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUERIES = ["toy story", "the matrix", "amelie", "godfather", "heat", "star wars", "harry poter", "incepshun",
           "jurassic park", "a film that is not there", "titanic", "pulp fiction", "alien", "fargo"]  # fmt: skip


def test_the_console_on_the_default_data(tmp_path: Path, open_console) -> None:
    home = tmp_path / "home"
    env = {"MOVIE_R_AGENT_INTERVAL_SECONDS": "3600", "MOVIE_R_AGENT_JITTER_SECONDS": "0"}
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
        console.page.wait_for_function("() => document.querySelector('#decisions').innerText.includes('no retrain')", timeout=60_000)
        history = console.text("#history")
        assert "rejected" in history and "champion" in history
        assert "(hybrid)" in console.text("#now")
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
