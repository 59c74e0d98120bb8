"""Online evaluation with real processes: API servers, the agent's scheduler, and a simulated
user clicking through HTTP.

The simulated user's taste is set from what each version answers on its own (read here,
by the test), so that every run has one clear side: these tests are about the loop (serve,
credit, decide, act), not about which model is better; `benchmarks/online.py` measures that
with users drawn from held-out ratings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from movie_r.answering.inference import Recommender
from movie_r.storage.registry import Registry
from tests.synthetic import synthetic_catalog, write_catalog_csv

from ..processes import movie_r_process, start_api, stop, wait_until

pytestmark = pytest.mark.slow

K = 6
SEEDS = [3, 17, 42, 77]
WORSE = ["--model", "popularity"]  # the same popular movies whatever the seed


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The settings every test's processes run with, on a catalogue the module's tests only read."""
    root = tmp_path_factory.mktemp("online")
    catalog = write_catalog_csv(synthetic_catalog(300, seed=5, words_per_overview=12, vocab_size=800), root / "catalog.csv")
    return {
        "MOVIE_R_CATALOG": str(catalog),
        "MOVIE_R_INTERACTIONS": "",
        "MOVIE_R_NEIGHBOURS": "20",
        "MOVIE_R_AGENT_INTERVAL_SECONDS": "1",
        "MOVIE_R_AGENT_JITTER_SECONDS": "0",
        "MOVIE_R_EVENTS_FLUSH_INTERVAL": "0.1",
        "MOVIE_R_ONLINE_MIN_EFFECT": "0.2",  # about a dozen decided impressions decide
        "MOVIE_R_ONLINE_CLICK_DELAY_SECONDS": "0",
        "MOVIE_R_LATENCY_BUDGET": "10",  # popularity answers fastest; the score is what matters here
    }


@pytest.fixture
def home(environment: dict[str, str], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    return tmp_path / "home", dict(environment)


@pytest.fixture(scope="module")
def trained_pair(environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A home holding `good_and_worse`'s two versions, trained once for the tests that start from them."""
    template = tmp_path_factory.mktemp("pair") / "home"
    good, worse = good_and_worse(template, environment)
    return template, good, worse


def copy_of(pair: tuple[Path, str, str], home: Path) -> tuple[str, str]:
    """The trained pair's home copied to `home` (a test's own), and its good and worse versions."""
    shutil.copytree(pair[0], home, symlinks=True)
    return pair[1], pair[2]


def cli(home: Path, env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "movie_r.cli.main", *args, "--home", str(home), "-q"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, **env})
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def versions(home: Path) -> list[str]:
    return [v.version for v in Registry(home / "models").versions()]


def answers_of(home: Path, version: str) -> dict[int, set[int]]:
    """What `version` alone answers for each seed movie."""
    model = Recommender(Registry(home / "models").get(version).load(), version)
    return {seed: {r.id for r in model.recommend(movie_id=seed, k=K).recommendations} for seed in SEEDS}


class User:
    """Asks for movies like each seed in turn and clicks the first movie of the answer it likes."""

    def __init__(self, url: str, likes: dict[int, set[int]]) -> None:
        self.client = httpx.Client(base_url=url, timeout=10)
        self.likes = likes
        self.shown = self.clicks = 0

    def browse(self, n: int, tag: str, every: int = 1) -> None:
        """`n` answers; clicks on every `every`-th of them."""
        for i in range(n):
            seed = SEEDS[i % len(SEEDS)]
            body = self.client.get("/recommend", params={"movie_id": seed, "k": K}, headers={"x-request-id": f"{tag}-{i}"}).json()
            self.shown += 1
            if i % every:
                continue
            for item in body["recommendations"]:
                if item["id"] in self.likes[seed]:
                    posted = self.client.post(
                        "/feedback", json={"request_id": body["request_id"], "movie_id": item["id"], "action": "click"}
                    )
                    assert posted.status_code == 201, posted.text
                    self.clicks += 1
                    break

    def close(self) -> None:
        self.client.close()


def good_and_worse(home: Path, env: dict[str, str]) -> tuple[str, str]:
    """A TF-IDF champion and a popularity version saved beside it."""
    cli(home, env, "train", "--model", "tfidf")
    good = versions(home)[-1]
    cli(home, env, "train", *WORSE)
    return good, versions(home)[-1]


def browse_until(user: User, done, rounds: int, tag: str, every: int = 1) -> bool:
    """Ten answers at a time until `done()` holds (the agent ticks every second meanwhile)."""
    for round_ in range(rounds):
        user.browse(10, f"{tag}{round_}", every)
        if wait_until(done, 3, interval=0.2):
            return True
    return False


def decisions(home: Path) -> list[dict]:
    return [json.loads(line) for line in (home / "reports" / "decisions.jsonl").read_text().splitlines()]


def registry_events(home: Path) -> list[dict]:
    return [json.loads(line) for line in (home / "models" / "registry.jsonl").read_text().splitlines()]


def test_a_better_challenger_is_served_by_every_worker_and_promoted_on_clicks(home) -> None:
    home, env = home
    env = {**env, "MOVIE_R_ONLINE": "interleave"}
    cli(home, env, "train", *WORSE)
    weak = versions(home)[-1]
    cli(home, env, "retrain", "--force", "--model", "tfidf")  # one agent tick: trains a challenger, which passes the offline gate
    started = decisions(home)[-1]
    assert started["outcome"]["result"] == "experiment", started
    candidate = started["outcome"]["challenger"]
    assert Registry(home / "models").champion_version() == weak
    mine, theirs = answers_of(home, candidate), answers_of(home, weak)
    likes = {seed: mine[seed] - theirs[seed] for seed in SEEDS}  # movies only the candidate would show
    assert all(likes.values())

    experiment_id = json.loads((home / "models" / "experiment.json").read_text())["id"]
    first, url = start_api(home, env)
    second, other = start_api(home, env)
    agent = movie_r_process(["agent"], home, env)
    user = User(url, likes)
    try:
        for request_id in ("same-request", "another"):  # two workers, one list per request id
            lists = [
                httpx.get(f"{base}/recommend", params={"movie_id": SEEDS[0], "k": K}, headers={"x-request-id": request_id})
                for base in (url, other)
            ]
            assert {r.headers["x-experiment"] for r in lists} == {experiment_id}
            assert lists[0].json()["recommendations"] == lists[1].json()["recommendations"]
        promoted = browse_until(user, lambda: Registry(home / "models").champion_version() == candidate, 20, "round")
        assert promoted, cli(home, env, "experiment", "status")
        # the champion link moves first; the experiment's end is recorded just after
        assert wait_until(lambda: any(e["event"] == "experiment_ended" for e in registry_events(home)), 10)
        ended = next(e for e in reversed(registry_events(home)) if e["event"] == "experiment_ended")
        assert ended["ending"] == "promoted" and ended["reason"].startswith("online: candidate better"), ended
        assert wait_until(lambda: "x-experiment" not in httpx.get(f"{url}/recommend", params={"movie_id": 3}).headers, 10)
    finally:
        user.close()
        for process in (agent, first, second):
            stop(process)
    print(f"\ncandidate promoted online after {user.shown} answers and {user.clicks} clicks")


def test_a_worse_version_started_by_hand_is_rejected_on_clicks(home, trained_pair) -> None:
    home, env = home
    env = {**env, "MOVIE_R_ONLINE": "interleave"}
    champion, worse = copy_of(trained_pair, home)
    cli(home, env, "experiment", "start", worse)
    mine, theirs = answers_of(home, champion), answers_of(home, worse)
    likes = {seed: mine[seed] - theirs[seed] for seed in SEEDS}  # movies only the champion would show

    api, url = start_api(home, env)
    agent = movie_r_process(["agent"], home, env)
    user = User(url, likes)
    registry = Registry(home / "models")
    try:
        assert browse_until(user, lambda: registry.candidate_version() is None, 20, "round"), cli(
            home, env, "experiment", "status"
        )
        assert wait_until(lambda: any(e["event"] == "experiment_ended" for e in registry_events(home)), 10)
    finally:
        user.close()
        stop(agent)
        stop(api)
    assert registry.champion_version() == champion
    last = next(e for e in reversed(registry_events(home)) if e["event"] == "experiment_ended")
    assert last["ending"] == "rejected" and last["reason"].startswith("online: candidate worse"), last
    assert any(e["event"] == "rejected" and e["version"] == worse for e in registry_events(home))


def test_a_champion_people_stop_clicking_is_rolled_back(home, trained_pair) -> None:
    home, env = home
    env = {**env, "MOVIE_R_ONLINE": "off"}
    good, worse = copy_of(trained_pair, home)
    likes = answers_of(home, good)  # the user likes what the good champion shows

    api, url = start_api(home, env)
    user = User(url, likes)
    registry = Registry(home / "models")
    agent = None
    try:
        user.browse(60, "before", every=2)
        before = user.clicks
        cli(home, env, "promote", worse, "--force")
        assert wait_until(lambda: httpx.get(f"{url}/ready").json().get("model_version") == worse, 10)
        agent = movie_r_process(["agent"], home, env)
        user.browse(60, "after", every=2)  # as many answers as before: the watch looks once there are
        restored = browse_until(user, lambda: registry.champion_version() == good, 4, "later", every=2)
        assert restored, (home / "reports" / "decisions.jsonl").read_text()[-2000:]
    finally:
        user.close()
        if agent is not None:
            stop(agent)
        stop(api)
    event = next(e for e in reversed(registry_events(home)) if e["event"] == "restored")
    assert event["version"] == good and event["previous"] == worse
    assert event["reason"].startswith("online_regression: click-through"), event
    assert [d["verdict"] for d in decisions(home)].count("online regression") == 1
    print(f"\nrolled back: {before} clicks on 60 answers before the promotion, {user.clicks - before} on {user.shown - 60} after")
