"""The compose stack on the real engine, step by step, as an operator runs it.

The steps share one stack (building and training once) and run in file order; each prints
the figure the README quotes. `make test-containers` runs them; `.ci/run` does too.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import uuid
from pathlib import Path

import httpx
import pytest

from ..processes import Traffic, wait_until
from .stack import Stack, docker

pytestmark = [pytest.mark.containers, pytest.mark.slow]

VERSION = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
WATCH_INTERVAL = 2.0  # the compose default (MOVIE_R_WATCH_INTERVAL)
STOP_GRACE = 30.0  # the compose file's stop_grace_period
QUIET_MINUTES = 0.1
QUERIES = ["toy story", "heat", "alien", "jumanji"]


def new_root(tmp_path_factory: pytest.TempPathFactory, uid: int = 0, gid: int = 0) -> Path:
    """A storage root on the host, owned by `uid` when this process may give it away. As root
    (the project's machines), the default is a root-owned one: a clone made as root."""
    root = tmp_path_factory.mktemp("storage-root")
    if os.getuid() == 0:
        os.chown(root, uid, gid)
    return root


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    # the default online stage, with a quiet window short enough that an experiment nobody
    # clicks in ends on the offline verdict within the test's waits
    stack = Stack(f"movie_r_test_{uuid.uuid4().hex[:8]}", new_root(tmp_path_factory), env={"MOVIE_R_ONLINE_QUIET_MINUTES": str(QUIET_MINUTES)})
    try:
        yield stack
    finally:
        stack.down()


def assert_nothing_runs_as_root(stack: Stack, *services: str) -> None:
    for service in services:
        for container in stack.containers(service):
            users = stack.process_users(container)
            assert users and "0" not in users and "root" not in users, f"{container} runs processes as {users}"


def get(url: str, path: str) -> httpx.Response:
    return httpx.get(url + path, timeout=10)


def test_1_images_build_and_drop_to_a_non_root_user(stack: Stack) -> None:
    started = time.monotonic()
    stack.compose("build")
    print(f"\nbuild (cached layers reused): {time.monotonic() - started:.0f} s")
    for service in ("api", "agent", "proxy"):
        image = stack.image(service)  # named after the compose project, not one global name
        assert image.startswith(stack.name)
        config = json.loads(docker("image", "inspect", image).stdout)[0]
        print(f"{image}: {config['Size'] / 1e6:.0f} MB, user {config['Config']['User'] or '(entrypoint drops)'}")
    # the services start as root only in their entrypoint, which drops to the service user
    done = docker("run", "--rm", stack.image("agent"), "id", "-u")
    assert done.stdout.strip() == "10001"
    done = docker("run", "--rm", "-e", "MOVIE_R_UID=4242", stack.image("agent"), "sh", "-c", "id -u; stat -c %u /var/lib/movie_r")
    assert done.stdout.split() == ["4242", "4242"]
    refused = docker("run", "--rm", "-e", "MOVIE_R_UID=0", stack.image("agent"), "id", "-u", check=False)
    assert refused.returncode != 0 and "refusing to run as root" in refused.stderr


def test_2_up_on_an_empty_root_trains_serves_and_writes_to_the_host(stack: Stack) -> None:
    assert not any(stack.root.iterdir())
    print(f"\nstorage root owned by uid {stack.root.stat().st_uid}")
    started = time.monotonic()
    stack.compose("up", "-d")
    stack.wait_healthy("api")
    healthy = time.monotonic() - started
    print(f"\nup on an empty storage root -> api healthy: {healthy:.1f} s")
    assert stack.champion_on_host() is not None, "the agent did not install a first champion"

    response = get(stack.url, "/recommend?movie=toy%20story&k=5")
    assert response.status_code == 200, response.text
    assert response.headers["x-model-version"] == stack.champion_on_host()
    assert len(response.json()["recommendations"]) == 5
    request_id = response.json()["request_id"]

    def logged() -> bool:  # the container flushes its events within a second or two
        files = (stack.root / "metrics" / "events").glob("*.jsonl")
        return any(request_id in path.read_text() for path in files)

    assert wait_until(logged, 10, interval=0.5), "the API's events did not reach the host volume"
    owners = {(p.stat().st_uid, p.stat().st_gid) for p in (stack.root / "metrics" / "events").iterdir()}
    assert owners == {stack.owner}
    everything = {(p.stat().st_uid, p.stat().st_gid) for p in [stack.root, *stack.root.rglob("*")]}
    assert everything == {stack.owner}, "a file of the storage root belongs to someone else (root?)"
    assert_nothing_runs_as_root(stack, "agent", "api")

    def tuned() -> bool:  # the agent ticks again at once after the first champion: the ratings it ignores
        lines = (stack.root / "reports" / "decisions.jsonl").read_text().splitlines()
        return len(lines) >= 2 and (json.loads(lines[1]).get("outcome") or {}).get("result") in ("experiment", "rejected")

    assert wait_until(tuned, 300, interval=1), stack.logs("agent")[-3000:]
    first, second = ((stack.root / "reports" / "decisions.jsonl").read_text().splitlines())[:2]
    assert json.loads(first)["verdict"] == "first champion" and json.loads(second)["verdict"] == "retrain"
    print(f"up -> the tuned tick's verdict ({json.loads(second)['outcome']['result']}): {time.monotonic() - started:.0f} s, "
          f"not an agent interval (600 s) later")
    outcome = json.loads(second)["outcome"]
    if outcome["result"] == "experiment":  # nobody clicks: promoted when the quiet window ends
        assert wait_until(lambda: stack.champion_on_host() == outcome["challenger"], QUIET_MINUTES * 60 + 30, interval=0.5)
        print(f"  its experiment ended, nobody clicking: promoted {time.monotonic() - started:.0f} s after up")

    console = get(stack.url, "/console")  # its templates ship in the image; it reads the mounted root
    assert console.status_code == 200 and stack.champion_on_host() in console.text
    assert "alive" in get(stack.url, "/console/panels").json()["html"]["now"]  # the agent's status, through the volume


FEEDBACK_PER_MINUTE = 60  # the compose default (MOVIE_R_FEEDBACK_PER_MINUTE)


def test_2b_a_feedback_flood_with_forged_forwarded_for_through_the_proxy_is_one_client(stack: Stack) -> None:
    """Each post names another client in X-Forwarded-For; the API must see the proxy's view, one client."""
    body = {"request_id": "not-issued.0000000000000000", "movie_id": 1, "action": "dislike"}  # refused after the rate check
    codes, times = [], []
    started = time.monotonic()
    for n in range(2 * FEEDBACK_PER_MINUTE):
        forged = {"X-Forwarded-For": f"198.51.100.{n % 250}, 10.{n}.0.1"}
        codes.append(httpx.post(f"{stack.url}/feedback", json=body, headers=forged, timeout=10).status_code)
        times.append(time.monotonic() - started)
    limited = codes.index(429) if 429 in codes else len(codes)
    # the bucket refills FEEDBACK_PER_MINUTE tokens a minute: those that came while the posts before the first 429 ran
    refilled = math.ceil(times[min(limited, len(times) - 1)] * FEEDBACK_PER_MINUTE / 60)
    print(f"\nfeedback flood through the proxy, forged X-Forwarded-For: {limited} accepted for judging in "
          f"{times[min(limited, len(times) - 1)]:.1f} s, then {codes.count(429)} x 429 of {len(codes)}")  # fmt: skip
    assert FEEDBACK_PER_MINUTE - 2 <= limited <= FEEDBACK_PER_MINUTE + refilled + 1
    after = codes[limited:]  # tokens keep refilling while the flood runs: that many get through again
    refilled_after = math.ceil((times[-1] - times[min(limited, len(times) - 1)]) * FEEDBACK_PER_MINUTE / 60)
    assert after.count(429) >= len(after) - refilled_after - 1, after
    # the same client without any header: its bucket is the flood's, empty but for what refilled
    # since (a token a second), where a client of its own would have a full one
    plain = [httpx.post(f"{stack.url}/feedback", json=body, timeout=10).status_code for _ in range(3)]
    assert 429 in plain, plain


def test_2c_the_api_container_cannot_read_the_private_signing_key(stack: Stack) -> None:
    assert (stack.root / "keys" / "signing.key").is_file()  # the agent has it
    listing = stack.exec("api", "sh", "-c", "ls -A /var/lib/movie_r/keys; grep -rl 'PRIVATE KEY' /var/lib/movie_r || true").stdout
    print(f"\nkeys/ in the API container: {' '.join(listing.split())}")
    assert set(listing.split()) == {"api", "trusted"}
    agent = stack.exec("agent", "head", "-c", "27", "/var/lib/movie_r/keys/signing.key").stdout
    assert agent == "-----BEGIN PRIVATE KEY-----"


def test_3_a_promotion_reaches_every_replica_with_no_failed_request(stack: Stack) -> None:
    stack.compose("up", "-d", "--scale", "api=3")
    stack.wait_healthy("api", replicas=3)
    replicas = stack.containers("api")
    assert len(replicas) == 3
    trained = stack.exec("agent", "movie-r", "train", "--model", "tfidf")  # `exec` starts as root; movie-r drops
    challenger = VERSION.findall(trained.stdout + trained.stderr)[0]
    assert challenger != stack.champion_on_host()
    written = stack.root / "models" / "versions" / challenger
    assert {(p.stat().st_uid, p.stat().st_gid) for p in [written, *written.iterdir()]} == {stack.owner}

    with Traffic(stack.url, QUERIES, pause=0.01) as load:
        time.sleep(1)
        stack.exec("agent", "movie-r", "promote", challenger, "--force", "--wait", "300")
        promoted = time.monotonic()

        def everywhere() -> bool:
            versions = {get(f"http://{stack.address(r)}:8000", "/recommend?movie=heat").headers.get("x-model-version") for r in replicas}
            return versions == {challenger}

        assert wait_until(everywhere, 30, interval=0.1), "a replica still serves the old champion"
        reached = time.monotonic() - promoted
        time.sleep(1)
    print(f"\npromotion -> every one of 3 replicas: {reached:.1f} s (watch interval {WATCH_INTERVAL:.0f} s); "
          f"{load.total} requests during the swap, outcomes {dict(load.outcomes)}")  # fmt: skip
    assert load.failures == {}, load.outcomes
    assert challenger in load.versions
    assert reached <= WATCH_INTERVAL + 5, "slower than a watch interval plus a model load"


def test_3b_an_experiment_is_served_by_every_replica_alike_through_the_proxy(stack: Stack) -> None:
    replicas = [f"http://{stack.address(r)}:8000" for r in stack.containers("api")]
    assert len(replicas) == 3
    alone = {url: get(url, "/recommend?movie=heat&k=8").json()["recommendations"] for url in replicas}
    trained = stack.exec("agent", "movie-r", "train", "--model", "popularity")
    candidate = VERSION.findall(trained.stdout + trained.stderr)[0]
    started = stack.exec("agent", "movie-r", "experiment", "start", candidate, "--mode", "interleave", "--wait", "300")
    experiment = re.search(r"exp-\d{8}T\d{6}Z-[0-9a-f]{6}", started.stdout + started.stderr)
    assert experiment, started.stdout + started.stderr

    def answer(url: str, request_id: str) -> httpx.Response:
        return httpx.get(f"{url}/recommend", params={"movie": "heat", "k": 8}, headers={"x-request-id": request_id}, timeout=10)

    def serving(url: str) -> bool:
        return answer(url, "probe").headers.get("x-experiment") == experiment.group()

    assert wait_until(lambda: all(serving(url) for url in replicas), WATCH_INTERVAL + 15, interval=0.2), "a replica does not serve it"
    for url in replicas:  # every replica mixes the candidate's picks into some answers
        lists = [answer(url, f"user-{i}").json()["recommendations"] for i in range(10)]
        assert any(movies != alone[url] for movies in lists), f"{url} answers as the champion alone"
    for request_id in ("user-1", "user-7"):  # and gives one request id the same list wherever it lands
        assert len({json.dumps(answer(url, request_id).json()["recommendations"]) for url in [*replicas, stack.url]}) == 1
    body = answer(stack.url, "user-3").json()
    clicked = httpx.post(f"{stack.url}/feedback", json={"request_id": body["request_id"], "movie_id": body["recommendations"][0]["id"], "action": "click"})
    assert clicked.status_code == 201, clicked.text
    status = json.loads(stack.exec("agent", "movie-r", "experiment", "status", "--json").stdout)
    assert status["id"] == experiment.group() and status["candidate"] == candidate

    stack.exec("agent", "movie-r", "experiment", "stop", "--wait", "300")
    assert wait_until(lambda: not any("x-experiment" in answer(url, "probe").headers for url in replicas), WATCH_INTERVAL + 15, interval=0.2)
    print(f"\nexperiment {experiment.group()} served by 3 replicas alike; {status['impressions']} impressions counted so far")


def test_4a_an_agent_killed_mid_training_restarts_and_publishes_nothing_partial(stack: Stack) -> None:
    agent = stack.containers("agent")[0]
    champion = stack.champion_on_host()
    restarts = stack.inspect(agent)["RestartCount"]
    before = set(stack.versions_on_host())
    started = json.loads((stack.root / "metrics" / "agent.json").read_text())["started_at"]
    docker("restart", agent)  # a fresh agent ticks at once: the ratings the champion ignores make it train

    def training() -> bool:
        status = json.loads((stack.root / "metrics" / "agent.json").read_text())
        return status["started_at"] != started and status["state"] == "ticking"

    assert wait_until(training, 60, interval=0.2), "the restarted agent did not start a tick"
    time.sleep(8)  # inside the tick's grid search (the tick takes about a minute)
    stack.kill_main_process(agent)

    assert wait_until(lambda: stack.inspect(agent)["RestartCount"] > restarts, 60, interval=0.5), "the agent did not restart"
    visible = {name: files for name, files in stack.versions_on_host().items() if not name.startswith(".")}
    for name, files in visible.items():
        assert {"manifest.json", "manifest.sig", "pipeline.joblib"} <= files, f"partial version {name} visible: {files}"
    assert set(visible) - before == set(), f"the killed tick published {set(visible) - before}"
    assert stack.champion_on_host() == champion
    assert get(stack.url, "/recommend?movie=heat").headers["x-model-version"] == champion

    def ticked() -> bool:
        status = json.loads((stack.root / "metrics" / "agent.json").read_text())
        return status["ticks"] >= 1 and status["state"] == "idle"

    assert wait_until(ticked, 300, interval=1), stack.logs("agent")[-3000:]
    status = json.loads((stack.root / "metrics" / "agent.json").read_text())
    assert status["failed_ticks"] == 0, status
    leftovers = [name for name in stack.versions_on_host() if name.startswith(".")]
    assert leftovers == [], f"staging directories left behind: {leftovers}"
    stack.wait_healthy("agent")
    print(f"\nagent SIGKILLed mid-training: restarted, champion unchanged, next tick: {status['last_verdict']}")


def test_4b_a_killed_api_replica_leaves_the_others_answering_and_comes_back(stack: Stack) -> None:
    victim = stack.containers("api")[1]
    restarts = stack.inspect(victim)["RestartCount"]
    clients = 4
    with Traffic(stack.url, QUERIES, clients=clients, pause=0.01) as load:
        time.sleep(1)
        killed = time.monotonic()
        stack.kill_main_process(victim)
        assert wait_until(lambda: stack.inspect(victim)["RestartCount"] > restarts, 60, interval=0.2)
        assert wait_until(lambda: stack.health(victim) == "healthy", 120, interval=0.5), stack.health(victim)
        back = time.monotonic() - killed
        time.sleep(1)
    print(f"\napi replica SIGKILLed under load: healthy again after {back:.1f} s; "
          f"{load.total} requests, outcomes {dict(load.outcomes)}")  # fmt: skip
    # The proxy retries a request the victim refused or reset before answering. One whose
    # response had begun (headers written, body not yet) cannot be retried: a crash loses it,
    # and at most one per client can be in flight at the kill. Nothing else may fail.
    assert set(load.failures) <= {"RemoteProtocolError"}, load.outcomes
    assert sum(load.failures.values()) <= clients, load.outcomes
    late = [round(t - killed, 2) for t in load.failed_at if not 0 <= t - killed < 1]
    assert late == [], f"failures away from the kill, seconds after it: {late}"


def test_4c_stopping_an_api_replica_drains_its_requests(stack: Stack) -> None:
    victim = stack.containers("api")[2]
    with Traffic(stack.url, QUERIES, clients=6, pause=0.01) as load:
        time.sleep(1)
        started = time.monotonic()
        docker("stop", "--time", str(int(STOP_GRACE)), victim, timeout=STOP_GRACE + 30)
        stopped = time.monotonic() - started
        time.sleep(1)
    state = stack.inspect(victim)["State"]
    print(f"\napi replica stopped under load in {stopped:.1f} s (grace {STOP_GRACE:.0f} s), exit code {state['ExitCode']}; "
          f"{load.total} requests, outcomes {dict(load.outcomes)}")  # fmt: skip
    assert state["ExitCode"] == 0, "killed at the end of the grace period instead of draining"
    assert stopped < STOP_GRACE
    assert load.failures == {}, load.outcomes
    docker("start", victim)
    stack.wait_healthy("api", replicas=3)


def test_6_down_then_up_serves_the_same_champion_with_its_history(stack: Stack) -> None:
    champion = stack.champion_on_host()
    history = (stack.root / "models" / "registry.jsonl").read_text()
    decisions = (stack.root / "reports" / "decisions.jsonl").read_text()
    stack.compose("down", "--timeout", "30")
    assert stack.containers("api") == []
    started = time.monotonic()
    stack.compose("up", "-d")
    stack.wait_healthy("api")
    print(f"\ndown, then up: api healthy in {time.monotonic() - started:.1f} s, champion {champion} kept")
    response = get(stack.url, "/recommend?movie=toy%20story")
    assert response.status_code == 200
    assert response.headers["x-model-version"] == champion == stack.champion_on_host()
    assert (stack.root / "models" / "registry.jsonl").read_text().startswith(history)
    assert (stack.root / "reports" / "decisions.jsonl").read_text().startswith(decisions)
    usage = docker("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", *stack.containers("api"),
                   *stack.containers("agent"), *stack.containers("proxy")).stdout  # fmt: skip
    print("memory per container (docker stats):\n" + usage)


@pytest.mark.skipif(os.getuid() != 0, reason="giving the storage root another owner needs root")
def test_5_told_to_run_as_a_given_uid_the_services_take_the_root_and_run_as_it(tmp_path_factory) -> None:
    root = new_root(tmp_path_factory, 12345, 12345)  # someone else's, with a file of root's inside
    (root / "reports").mkdir()
    (root / "reports" / "left-by-root.txt").write_text("x")
    stack = Stack(f"movie_r_test_{uuid.uuid4().hex[:8]}", root, uid=2000, gid=2000)
    try:
        stack.compose("up", "-d")
        stack.wait_healthy("api")
        assert get(stack.url, "/recommend?movie=heat").status_code == 200
        owners = {(p.stat().st_uid, p.stat().st_gid) for p in [root, *root.rglob("*")]}
        assert owners == {(2000, 2000)}, owners
        assert_nothing_runs_as_root(stack, "agent", "api")
        print("\nstorage root of uid 12345, MOVIE_R_UID=2000: served, every file now uid 2000, no process as root")
    finally:
        stack.down()
