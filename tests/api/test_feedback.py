"""Feedback that cannot be forged, flooded or planted: what the abuse probe did, refused."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from movie_r.lifecycle.telemetry import feedback_positives, feedback_stats, read_feedback
from movie_r.settings import Settings
from movie_r_agents.triggers import negative_feedback
from movie_r_api.app import create_app
from movie_r_api.feedback import FeedbackLog

from .test_routes import changed

EPOCH = datetime.fromtimestamp(0, UTC)


@pytest.fixture
def api(trained_home: Settings):
    settings = changed(trained_home, feedback_per_minute=30, events_flush_interval=0.05)
    with TestClient(create_app(settings)) as client:
        yield client, settings


def issued(client: TestClient, **headers: str) -> str:
    return client.get("/recommend", params={"movie": "toy story"}, headers=headers).json()["request_id"]


def test_feedback_on_a_request_id_the_service_did_not_issue_is_refused(api) -> None:
    client, settings = api
    genuine = issued(client)
    altered = genuine[:-1] + ("1" if genuine.endswith("0") else "0")  # one digit of a real tag changed
    for forged in ("r1", "abc-123.0000000000000000", altered):
        response = client.post("/feedback", json={"request_id": forged, "movie_id": 2, "action": "dislike"})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "request_id"]
    assert not list(settings.feedback_dir.glob("*.jsonl"))


def test_a_client_chosen_request_id_does_not_make_a_forged_one_valid(api) -> None:
    client, _ = api
    chosen = issued(client, **{"X-Request-ID": "my-own-id"})
    assert chosen.startswith("my-own-id.")
    assert client.post("/feedback", json={"request_id": "my-own-id", "movie_id": 2, "action": "like"}).status_code == 422
    assert client.post("/feedback", json={"request_id": chosen, "movie_id": 2, "action": "like"}).status_code == 201


def test_feedback_may_name_only_a_movie_the_cited_answer_recommended(api) -> None:
    client, settings = api
    answer = client.get("/recommend", params={"movie": "toy story", "k": 2}).json()
    recommended = [movie["id"] for movie in answer["recommendations"]]
    catalogue = {movie["id"] for movie in client.get("/movies", params={"q": "a", "limit": 50}).json()}
    elsewhere = next(movie_id for movie_id in sorted(catalogue) if movie_id not in recommended)
    refused = client.post("/feedback", json={"request_id": answer["request_id"], "movie_id": elsewhere, "action": "click"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "movie_id"]
    accepted = client.post("/feedback", json={"request_id": answer["request_id"], "movie_id": recommended[1], "action": "click"})
    assert accepted.status_code == 201
    [recorded] = read_feedback(settings.metrics_dir, EPOCH)
    assert (recorded.movie_id, recorded.model_version) == (recommended[1], answer["model_version"])


def test_the_answer_id_is_the_same_in_the_body_and_the_header(api) -> None:
    client, _ = api
    response = client.get("/recommend", params={"movie": "toy story"})
    assert response.headers["x-request-id"] == response.json()["request_id"]


def test_one_feedback_per_request_and_action(api) -> None:
    client, _ = api
    request_id = issued(client)
    assert client.post("/feedback", json={"request_id": request_id, "movie_id": 2, "action": "like"}).status_code == 201
    again = client.post("/feedback", json={"request_id": request_id, "movie_id": 2, "action": "like"})
    assert again.status_code == 409
    assert client.post("/feedback", json={"request_id": request_id, "movie_id": 2, "action": "click"}).status_code == 201


def test_a_flood_from_one_client_is_rate_limited(api) -> None:
    client, settings = api
    ids = [issued(client) for _ in range(40)]
    started = time.monotonic()
    codes = [client.post("/feedback", json={"request_id": i, "movie_id": 2, "action": "dislike"}).status_code for i in ids]
    # the tokens the bucket regained while the posts went out: a slow machine's few seconds buy one or two
    refilled = int((time.monotonic() - started) * settings.feedback_per_minute / 60)
    assert codes[:30] == [201] * 30 and set(codes[30:]) <= {201, 429}
    assert codes[30:].count(201) <= refilled and codes.count(429) >= 10 - refilled, (codes, refilled)
    refused = client.post("/feedback", json={"request_id": ids[-1], "movie_id": 2, "action": "dislike"})
    assert int(refused.headers["retry-after"]) >= 1
    assert len(read_feedback(settings.metrics_dir, EPOCH)) == codes.count(201)


def test_a_body_over_the_limit_is_a_413_and_nothing_is_recorded(api) -> None:
    client, settings = api
    big = b'{"request_id": "' + b"x" * (10 << 20) + b'", "movie_id": 2, "action": "like"}'
    response = client.post("/feedback", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    chunked = client.post("/feedback", content=iter([b"{" * 9000, b" " * 9000]), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert not list(settings.feedback_dir.glob("*.jsonl"))


def test_ten_thousand_dislikes_from_one_source_cannot_fire_the_trigger(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "feedback")
    for n in range(10_000):
        log.append({"time": datetime.now(UTC).isoformat(), "request_id": f"r{n}.x", "movie_id": 2, "action": "dislike", "source": "one-client"})
    settings = Settings(home=tmp_path, min_feedback=20, feedback_per_source_max=5)
    counted = feedback_stats(read_feedback(tmp_path, EPOCH, settings.feedback_per_source_max))
    assert counted.total == 5
    check = negative_feedback(settings, counted)
    assert not check.fired and "too few to judge" in check.reason


def test_positive_feedback_joins_training_data_capped_per_source(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    lines, feedback = [], FeedbackLog(tmp_path / "feedback")
    for n in range(50):
        lines.append(f'{{"ts": {time.time()}, "request_id": "r{n}.x", "match_id": 1}}')
        feedback.append({"time": datetime.now(UTC).isoformat(), "request_id": f"r{n}.x", "movie_id": 2, "action": "like", "source": "planter"})
    (events / "vm-1.jsonl").write_text("\n".join(lines) + "\n")
    assert len(feedback_positives(tmp_path, per_source=5)) == 10  # 5 pseudo-users, two rows each


def test_feedback_files_rotate_and_old_ones_are_deleted(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "feedback", rotate_bytes=2000, retention_days=1)
    for n in range(40):
        log.append({"request_id": f"r{n}.x", "movie_id": 2, "action": "like", "padding": "p" * 50})
    files = sorted((tmp_path / "feedback").glob("*.jsonl"))
    assert len(files) > 2 and all(f.stat().st_size < 2200 for f in files)
    stale = tmp_path / "feedback" / "gone-host-1.jsonl"  # a finished process's own file, two days old
    stale.write_text('{"request_id": "old.x"}\n')
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    log.remove_expired()
    assert not stale.exists() and log.path.exists()


def test_a_process_without_the_shared_secret_adopts_it_once_it_appears(tmp_path: Path) -> None:
    """API replicas may start where they cannot make the secret; they must not keep a private one."""
    from movie_r.storage.signing import request_id_secret_path
    from movie_r_api.request_ids import RequestIds

    shared_file = request_id_secret_path(tmp_path)
    shared_file.parent.write_text("")  # a file where the directory should be: nothing can be made there
    early = RequestIds.load(None, tmp_path)
    private = early.issue()
    shared_file.parent.unlink()
    shared_file.parent.mkdir()
    shared_file.write_text("shared-secret\n")
    early.refresh()
    shared = RequestIds.load(None, tmp_path)
    issued = early.issue()
    assert shared.verify(issued) and early.verify(shared.issue())
    assert not shared.verify(private)


def test_a_process_on_a_root_without_a_secret_makes_the_one_every_other_adopts(tmp_path: Path) -> None:
    from movie_r.storage.signing import request_id_secret_path
    from movie_r_api.request_ids import RequestIds

    first = RequestIds.load(None, tmp_path)
    assert request_id_secret_path(tmp_path).stat().st_mode & 0o777 == 0o600
    assert RequestIds.load(None, tmp_path).verify(first.issue())
