"""A real uvicorn process, driven over HTTP: hot swap under load, corrupt versions refused."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.training import train
from movie_r.settings import Settings
from movie_r.storage.registry import Registry

from ..processes import start_api, stop, wait_until
from .versions import corrupt_copy

pytestmark = pytest.mark.slow


@pytest.fixture
def two_versions(trained_home: Settings) -> tuple[Settings, str, str]:
    """The champion and a second, newer version that is not champion yet."""
    registry = Registry(trained_home.models_dir)
    first = registry.champion_version()
    second = train(trained_home, load_training_data(trained_home.catalog, None), params={"text__genre_weight": 1})
    return trained_home, first, second.version.version


def burst(url: str, stop_event: threading.Event, outcomes: Counter, versions: list[str]) -> None:
    queries = ["toy story", "Shawshank Redemtion", "robot love in space", "hamlet"]
    with httpx.Client(base_url=url, timeout=10) as client:
        i = 0
        while not stop_event.is_set():
            try:
                response = client.get("/recommend", params={"movie": queries[i % len(queries)], "k": 5})
                outcomes[response.status_code] += 1
                if response.status_code == 200:
                    versions.append(response.headers["x-model-version"])
            except httpx.HTTPError as exc:
                outcomes[type(exc).__name__] += 1
            i += 1


def test_champion_swaps_under_load_without_a_failed_request(two_versions) -> None:
    settings, first, second = two_versions
    process, url = start_api(settings.home)
    try:
        outcomes: Counter = Counter()
        versions: list[str] = []
        stop_event = threading.Event()
        workers = [threading.Thread(target=burst, args=(url, stop_event, outcomes, versions)) for _ in range(8)]
        for worker in workers:
            worker.start()
        time.sleep(1.0)
        Registry(settings.models_dir).set_champion(second)
        swapped = wait_until(lambda: versions[-1] == second, timeout=5)
        time.sleep(0.5)
        stop_event.set()
        for worker in workers:
            worker.join()
        assert swapped, "the new champion did not appear within 5 s"
        assert set(outcomes) == {200}, outcomes
        assert versions[0] == first
        assert sum(outcomes.values()) > 100
    finally:
        stop(process)
    # uvicorn re-raises SIGTERM after its graceful shutdown; the lifespan's last line proves it ran
    assert "api stopped events_written=" in (settings.home / "serve.log").read_text()


def test_corrupt_version_is_refused_and_the_old_champion_keeps_serving(two_versions) -> None:
    settings, first, second = two_versions
    registry = Registry(settings.models_dir)
    corrupt = "29990101T000000Z-bad000"
    corrupt_copy(registry, second, corrupt, "pipeline.joblib")
    process, url = start_api(settings.home)
    try:
        registry.set_champion(corrupt)
        assert wait_until(lambda: 'result="failure"} 1.0' in httpx.get(f"{url}/metrics").text, timeout=5)
        response = httpx.get(f"{url}/recommend", params={"movie": "toy story"})
        assert response.status_code == 200
        assert response.headers["x-model-version"] == first
        model = httpx.get(f"{url}/model").json()
        assert "checksum mismatch" in model["last_reload_error"]
        assert httpx.get(f"{url}/ready").status_code == 200
        registry.set_champion(second)  # a good version after a bad one is still picked up
        assert wait_until(lambda: httpx.get(f"{url}/ready").json()["model_version"] == second, timeout=5)
    finally:
        stop(process)


def test_two_workers_share_one_metrics_view_and_write_their_own_event_files(trained_home: Settings) -> None:
    process, url = start_api(trained_home.home, {"MOVIE_R_WORKERS": "2", "MOVIE_R_EVENTS_FLUSH_INTERVAL": "0.1"})
    try:
        assert wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, timeout=20)
        for _ in range(60):  # a new connection each time, so both workers get some
            assert httpx.get(f"{url}/recommend", params={"movie": "toy story"}).status_code == 200
        text = httpx.get(f"{url}/metrics").text
        assert 'movie_r_requests_total{endpoint="/recommend",outcome="200"} 60.0' in text
        assert 'movie_r_model_reloads_total{result="success"} 2.0' in text  # each worker loaded the champion
        assert wait_until(lambda: len(list((trained_home.metrics_dir / "events").glob("*.jsonl"))) == 2, timeout=5)
        # forked from one server that imported the app, so they share its libraries' pages
        (fork_server,) = [pid for pid in _children(process.pid) if b"forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(_children(fork_server)) == 2
        assert "/sklearn/" in Path(f"/proc/{fork_server}/maps").read_text(), "the fork server did not import the app"
    finally:
        stop(process)


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_every_workers_log_lines_reach_the_console(two_versions: tuple[Settings, str, str]) -> None:
    """With several workers uvicorn configured only its own loggers: the workers' INFO lines were lost."""
    settings, first, second = two_versions
    process, url = start_api(settings.home, {"MOVIE_R_WORKERS": "2"})
    log = settings.home / "serve.log"
    try:
        assert wait_until(lambda: log.read_text().count(f"champion swapped from=None to={first}") == 2, timeout=30), log.read_text()
        Registry(settings.models_dir).set_champion(second)
        assert wait_until(lambda: log.read_text().count(f"to={second}") == 2, timeout=10), log.read_text()
    finally:
        stop(process)
    swaps = [line for line in log.read_text().splitlines() if f"champion swapped from={first} to={second}" in line]
    assert len({line.split(" pid=")[1].split()[0] for line in swaps}) == 2  # one line from each worker


def test_a_planted_champion_is_refused_and_counted_while_the_old_one_serves(trained_home: Settings, tmp_path) -> None:
    from ..test_signing import plant

    registry = Registry(trained_home.models_dir)
    serving = registry.champion_version()
    marker = tmp_path / "payload-ran"
    plant(registry, serving, "20990101T000000Z-evil00", marker)
    process, url = start_api(trained_home.home)
    try:
        registry.set_champion("20990101T000000Z-evil00")  # what a compromised replica could do to the link
        assert wait_until(lambda: httpx.get(f"{url}/model").json()["last_reload_error"] is not None, timeout=10)
        assert "signature does not match" in httpx.get(f"{url}/model").json()["last_reload_error"]
        assert httpx.get(f"{url}/recommend", params={"movie": "heat"}).headers["x-model-version"] == serving
        assert 'movie_r_model_reloads_total{result="bad_signature"} 1.0' in httpx.get(f"{url}/metrics").text
    finally:
        stop(process)
    assert not marker.exists(), "the planted pickle ran"


def test_the_api_serves_and_swaps_from_a_read_only_models_directory(two_versions: tuple[Settings, str, str], tmp_path) -> None:
    """In compose the API containers mount models/ read-only: nothing in the API may need to write there."""
    import os
    import subprocess

    settings, first, second = two_versions
    home = tmp_path / "api-home"
    (home / "models").mkdir(parents=True)
    os.symlink(settings.keys_path, home / "keys")
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(settings.models_dir), str(home / "models")], check=False)
    if mounted.returncode != 0:
        pytest.skip("a read-only bind mount needs root")
    try:
        with pytest.raises(OSError, match="Read-only file system"):
            (home / "models" / "probe").write_text("x")
        process, url = start_api(home)
        try:
            assert wait_until(lambda: httpx.get(f"{url}/ready").json().get("model_version") == first, timeout=20)
            Registry(settings.models_dir).set_champion(second)  # the trainer's side of the mount is writable
            assert wait_until(lambda: httpx.get(f"{url}/ready").json().get("model_version") == second, timeout=10)
        finally:
            stop(process)
    finally:
        subprocess.run(["umount", str(home / "models")], check=False)
