"""The whole loop with real processes, as compose runs it: API and agent on one storage root.

Unknown titles raise the cold-start rate, the agent says so; the catalogue gains those
movies, a challenger is trained, judged and promoted, and the API switches to it without a
failed request; a worse configuration is rejected; rollback is followed; restarts and a
killed trainer leave the system consistent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from movie_r.storage.registry import Registry
from tests.synthetic import synthetic_catalog, write_catalog_csv

from ..conftest import HEADER, MOVIES, write_csv
from ..processes import Traffic, movie_r_process, start_api, stop, wait_until

pytestmark = pytest.mark.slow

NEW_MOVIES = [
    (101, "Inception", "Action|Sci-Fi|Thriller", "A thief who steals secrets through dreams plants an idea.", 2010, 400),
    (102, "Interstellar", "Adventure|Drama|Sci-Fi", "Explorers travel through a wormhole in space to save humanity.", 2014, 350),
    (103, "The Matrix", "Action|Sci-Fi", "A hacker learns that reality is a simulation run by machines.", 1999, 380),
]
UNKNOWN = ["inception", "interstellar", "the matrix"]
WORSE = ["--param", "text__title_weight=0", "--param", "text__genre_weight=0", "--param", "text__overview_weight=0"]


def decisions(home: Path) -> list[dict]:
    path = home / "reports" / "decisions.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def serving(url: str) -> str | None:
    response = httpx.get(f"{url}/ready")
    return response.json().get("model_version") if response.status_code == 200 else None


def cli(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "movie_r.cli.main", *args, "--home", str(home), "-q"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, **env})


def test_the_lifecycle_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "runtime"
    catalog = write_csv(tmp_path / "catalog.csv", HEADER, MOVIES)
    env = {
        "MOVIE_R_CATALOG": str(catalog),
        "MOVIE_R_INTERACTIONS": "",
        "MOVIE_R_NEIGHBOURS": "10",
        "MOVIE_R_AGENT_INTERVAL_SECONDS": "1.5",
        # the default online stage, with nobody clicking: each challenger that passes the
        # offline gate is promoted when the experiment's quiet window ends
        "MOVIE_R_ONLINE_QUIET_MINUTES": "0.01",
        "MOVIE_R_AGENT_JITTER_SECONDS": "0",
        "MOVIE_R_MIN_REQUESTS": "20",
        "MOVIE_R_COOLDOWN_HOURS": "1",
        "MOVIE_R_WATCH_INTERVAL": "0.2",
    }
    registry = Registry(home / "models")
    agent = movie_r_process(["agent"], home, env)
    api, url = start_api(home, env)
    try:
        # the agent installs the first champion on an empty volume; the API picks it up by itself
        assert wait_until(lambda: serving(url) is not None, timeout=60), (home / "agent.log").read_text()
        first = serving(url)

        # 1. unknown titles raise the cold-start rate; the next tick decides to retrain and says why
        for i in range(30):
            assert httpx.get(f"{url}/recommend", params={"movie": UNKNOWN[i % 3]}).json()["cold_start"]
        assert wait_until(
            lambda: any("cold-start rate" in r for d in decisions(home) for r in d.get("reasons", []) if d["verdict"] == "retrain"),
            timeout=30,
        ), decisions(home)[-1]
        wait_until(lambda: decisions(home)[-1]["verdict"] == "no retrain", timeout=30)  # the cold-start retrain settled
        before_data = serving(url)

        # 2. the catalogue gains the missing movies: a challenger is promoted, the API follows without a failure
        with Traffic(url, ["toy story", "heat", "alien", "hamlet"]) as traffic:
            write_csv(catalog, HEADER, [*MOVIES, *NEW_MOVIES])
            assert wait_until(lambda: serving(url) != before_data, timeout=60), decisions(home)[-1]
            wait_until(lambda: traffic.versions and traffic.versions[-1] == serving(url), timeout=10)
        assert set(traffic.outcomes) == {"200"}, traffic.outcomes
        assert len(set(traffic.versions)) >= 2
        chosen = [d for d in decisions(home) if (d.get("outcome") or {}).get("challenger") == serving(url)]
        assert [d["outcome"]["result"] for d in chosen] == ["experiment", "promoted"], chosen  # nobody clicked
        assert any(t["name"] == "data_changed" and t["fired"] for t in chosen[0]["triggers"])
        assert "no online evidence (no feedback in the first window)" in chosen[1]["outcome"]["reasons"][0]
        evaluated = [e.model_dump() for e in registry.events() if e.event == "evaluated" and e.version == serving(url)]
        assert evaluated[0]["challenger_score"] > evaluated[0]["champion_score"]  # both scored on the current data
        for title, movie_id in zip(UNKNOWN, (101, 102, 103), strict=True):
            body = httpx.get(f"{url}/recommend", params={"movie": title}).json()
            assert (body["match"]["method"], body["match"]["id"], body["cold_start"]) == ("exact", movie_id, False)
        new_champion = serving(url)

        # 3. a forced retrain with a deliberately worse configuration is rejected; the champion stays
        worse = cli(home, env, "retrain", "--force", "--wait", "60", *WORSE)
        assert "=> rejected" in worse.stdout, worse.stdout + worse.stderr
        assert registry.champion_version() == new_champion == serving(url)

        # 4. rollback returns to the previous champion and the API follows
        rolled = cli(home, env, "rollback", "--wait", "60")  # the agent ticks every 1.5 s and holds the lock meanwhile
        assert rolled.returncode == 0, rolled.stderr
        previous = registry.champion_version()
        assert previous != new_champion
        assert wait_until(lambda: serving(url) == previous, timeout=10)

        # 5a. a killed API comes back serving the same champion
        stop(api, signal.SIGKILL)
        api, url = start_api(home, env)
        assert wait_until(lambda: serving(url) == previous, timeout=30)
        assert first is not None

        # 5b. killing the agent mid-training leaves no partial version and the champion untouched
        versions = [v.version for v in registry.versions()]
        write_catalog_csv(synthetic_catalog(12_000, seed=3), catalog)  # slow enough to be caught training
        hidden = lambda: any(p.name.startswith(".") for p in registry.versions_dir.iterdir())  # noqa: E731
        assert wait_until(hidden, timeout=120, interval=0.002), "the agent was never seen writing a version"
        stop(agent, signal.SIGKILL)
        assert [v.version for v in registry.versions()] == versions
        assert registry.champion_version() == previous == serving(url)
    finally:
        stop(api)
        stop(agent)
