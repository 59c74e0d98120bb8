"""The console's routes and admin actions without a browser: what they refuse, and what
they read (the browser suite, tests/browser, checks what a person sees)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from movie_r.lifecycle.fitting import load_training_data
from movie_r.lifecycle.training import train
from movie_r.settings import Settings
from movie_r.storage.agent_status import AgentStatus
from movie_r.storage.records import RequestEvent
from movie_r.storage.registry import Registry
from movie_r_api.app import create_app
from movie_r_api.console import brief
from movie_r_api.console.state import agent_view, gaps
from movie_r_api.console.traffic import WINDOWS, traffic

from ..conftest import champion_and_other
from .test_routes import changed

TOKEN = {"Authorization": "Bearer s3cret-admin-token-16"}


@contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """`directory` read-only for this process: a read-only bind mount as root (whom no mode
    stops), the mode bits otherwise."""
    if os.geteuid() != 0:
        mode = directory.stat().st_mode
        os.chmod(directory, stat.S_IRUSR | stat.S_IXUSR)
        try:
            yield
        finally:
            os.chmod(directory, mode)
        return
    for command in (["mount", "--bind", str(directory), str(directory)], ["mount", "-o", "remount,ro,bind", str(directory)]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(directory)], capture_output=True)
            pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True)


@pytest.fixture
def two_versions(trained_home: Settings) -> Settings:
    train(trained_home, load_training_data(trained_home.catalog, None))  # a second version, not champion
    return changed(trained_home, admin_token="s3cret-admin-token-16")


def test_reports_are_served_by_version_id_only(trained_home: Settings) -> None:
    version = Registry(trained_home.models_dir).champion_version()
    (trained_home.reports_dir).mkdir(parents=True, exist_ok=True)
    (trained_home.reports_dir / f"{version}.html").write_text("<h1>report</h1>")
    (trained_home.home / "secret.html").write_text("not a report")
    with TestClient(create_app(trained_home)) as client:
        assert client.get(f"/console/reports/{version}").text == "<h1>report</h1>"
        for name in ("..%2Fsecret", "%2E%2E", ".hidden", "nope", "a%00b"):
            assert client.get(f"/console/reports/{name}").status_code == 404, name


def test_the_page_and_its_panels_render_and_escape_user_text(trained_home: Settings) -> None:
    with TestClient(create_app(trained_home)) as client:
        client.get("/recommend", params={"movie": "<script>alert(1)</script>"})
        time.sleep(1.3)  # one flush of the event writer
        page = client.get("/console")
        panels = client.get("/console/panels").json()["html"]
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert set(panels) == {"now", "experiment", "history", "decisions", "traffic", "gaps"}
    assert "&lt;script&gt;" in panels["gaps"] and "<script>" not in panels["gaps"]


def test_admin_promote_and_rollback_change_the_champion_here_at_once(two_versions: Settings) -> None:
    registry = Registry(two_versions.models_dir)
    first, second = champion_and_other(registry)
    with TestClient(create_app(two_versions)) as client:
        assert client.post(f"/admin/promote?version={second}").status_code == 401
        promoted = client.post(f"/admin/promote?version={second}", headers=TOKEN)
        assert promoted.status_code == 200, promoted.text
        assert promoted.json()["serving"] == second == registry.champion_version()
        restored = client.post("/admin/rollback", headers=TOKEN)
        assert restored.json() | {"reason": None} == {"event": "restored", "version": first, "previous": second,
                                                     "reason": None, "serving": first}  # fmt: skip
        assert client.post("/admin/promote?version=20990101T000000Z-000000", headers=TOKEN).status_code == 404
        assert client.post("/admin/promote?version=../x", headers=TOKEN).status_code == 422


def test_admin_changes_wait_for_no_trainer_and_say_when_models_is_read_only(two_versions: Settings) -> None:
    registry = Registry(two_versions.models_dir)
    second = champion_and_other(registry)[1]
    with TestClient(create_app(two_versions)) as client:
        with registry.trainer_lock():
            busy = client.post(f"/admin/promote?version={second}", headers=TOKEN)
        assert busy.status_code == 409 and "holds" in busy.json()["detail"]
        registry.lock_path.unlink(missing_ok=True)
        with read_only(two_versions.models_dir):  # as compose mounts it into API containers
            refused = client.post(f"/admin/promote?version={second}", headers=TOKEN)
        assert refused.status_code == 503 and "not writable" in refused.json()["detail"]
    assert registry.champion_version() != second


def test_agent_view_tells_alive_training_stopped_and_silent() -> None:
    now = datetime.now(UTC)
    status = AgentStatus.new(600)
    assert agent_view(None).alive is False
    assert agent_view(status, now).summary == "idle"
    status.state, status.stage, status.stage_done, status.stage_total = "ticking", "neighbours", 3, 10
    assert agent_view(status, now).summary == "training now: neighbours 3/10"
    assert not agent_view(status, now + timedelta(minutes=5)).alive
    status.state = "stopped"
    assert not agent_view(status, now).alive


def test_traffic_buckets_requests_by_minute_with_percentiles(small_recommender) -> None:
    now = datetime.now(UTC)
    events = [
        RequestEvent(ts=(now - timedelta(minutes=m)).timestamp(), latency_ms=float(m), method="exact", mean_similarity=0.5)
        for m in range(0, 30)
    ] + [RequestEvent(ts=(now - timedelta(hours=3)).timestamp(), latency_ms=1.0, status=422)]
    hour = traffic(events, WINDOWS[0], "all", now)
    day = traffic(events, WINDOWS[1], "all", now)
    assert (hour.requests, day.requests, day.errors) == (30, 31, 1)
    assert hour.latency_p50 == pytest.approx(14.5) and hour.cold_start_rate == 0.0
    similarity = hour.charts[-1]
    assert [bar.value for bar in similarity.bars if bar.value] == [30.0]


def test_gaps_split_missing_titles_from_failed_resolutions(small_recommender) -> None:
    asked = ["toy stor", "toy stor", "something else entirely", "zzzz robots"]
    events = [RequestEvent(ts=time.time(), cold_start=True, query=q) for q in asked]
    found = gaps(events, small_recommender)
    assert [(g.query, g.count, g.like) for g in found.failed] == [("toy stor", 2, "Toy Story")]
    assert [g.query for g in found.missing] == ["something else entirely", "zzzz robots"]  # "robots" alone is a title


def test_brief_keeps_table_cells_short() -> None:
    assert [brief(None), brief(0.123456), brief(["a", 1.5]), brief("f" * 64), brief(True)] == ["—", "0.123", "a, 1.5", "f" * 12 + "…", "yes"]


def test_promote_by_hand_is_in_the_registry_log(two_versions: Settings) -> None:
    second = champion_and_other(Registry(two_versions.models_dir))[1]
    with TestClient(create_app(two_versions)) as client:
        client.post(f"/admin/promote?version={second}", headers=TOKEN)
    event = Registry(two_versions.models_dir).events()[-1]
    assert (event.event, event.version) == ("promoted", second) and "admin API" in (event.reason or "")
    assert Path(two_versions.models_dir / "champion").resolve().name == second


def test_a_report_that_is_a_symbolic_link_is_not_served(trained_home: Settings) -> None:
    version = Registry(trained_home.models_dir).champion_version()
    trained_home.reports_dir.mkdir(parents=True, exist_ok=True)
    (trained_home.reports_dir / f"{version}.html").symlink_to(trained_home.keys_path / "signing.key")
    (trained_home.reports_dir / "20990101T000000Z-000000.html").mkdir()  # not a regular file either
    with TestClient(create_app(trained_home)) as client:
        planted = client.get(f"/console/reports/{version}")
        assert planted.status_code == 404 and "PRIVATE KEY" not in planted.text
        assert client.get("/console/reports/20990101T000000Z-000000").status_code == 404


def test_one_unreadable_file_degrades_its_own_panel_and_logs_one_line(trained_home: Settings, caplog) -> None:
    trained_home.reports_dir.mkdir(parents=True, exist_ok=True)
    trained_home.storage.reports.decisions.mkdir()  # a directory where the decisions log should be
    settings = changed(trained_home)
    with TestClient(create_app(settings)) as client:
        page = client.get("/console")
        polls = []
        for _ in range(3):
            polls.append(client.get("/console/panels"))
            client.app.state.movie_r.console._cached.clear()  # no few-second cache: every poll reads again
    assert page.status_code == 200 and "Could not show this panel" in page.text
    assert {poll.status_code for poll in polls} == {200}
    html = polls[-1].json()["html"]
    assert "Could not show this panel" in html["decisions"] and "IsADirectoryError" in html["decisions"]
    assert all("Could not show this panel" not in html[name] for name in ("now", "history", "traffic", "gaps"))
    logged = [r for r in caplog.records if "console panel unreadable" in r.getMessage()]
    assert len(logged) == 1 and not logged[0].exc_info


def test_a_garbage_agent_status_shows_as_unreadable_not_as_absent(trained_home: Settings) -> None:
    trained_home.metrics_dir.mkdir(parents=True, exist_ok=True)
    (trained_home.metrics_dir / "agent.json").write_text("{not json")
    with TestClient(create_app(trained_home)) as client:
        now = client.get("/console/panels").json()["html"]["now"]
    assert "agent.json is unreadable" in now and "no agent has written" not in now


def test_the_console_asks_for_its_token_when_one_is_set(trained_home: Settings) -> None:
    import base64

    token = "console-token-of-16+"
    version = Registry(trained_home.models_dir).champion_version()
    trained_home.reports_dir.mkdir(parents=True, exist_ok=True)
    (trained_home.reports_dir / f"{version}.html").write_text("<h1>report</h1>")
    basic = {"Authorization": "Basic " + base64.b64encode(f"operator:{token}".encode()).decode()}
    with TestClient(create_app(changed(trained_home, console_token=token))) as client:
        for path in ("/console", "/console/panels", f"/console/reports/{version}"):
            refused = client.get(path)
            assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic"), path
            assert client.get(path, headers={"Authorization": "Basic " + base64.b64encode(b"x:wrong").decode()}).status_code == 401
            assert client.get(path, headers=basic).status_code == 200, path
            assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200, path
        assert client.get("/health").status_code == 200  # the service's own routes are not the console's


def test_console_responses_forbid_framing_sniffing_and_foreign_scripts(trained_home: Settings) -> None:
    with TestClient(create_app(trained_home)) as client:
        page = client.get("/console")
        panels = client.get("/console/panels")
    for response in (page, panels):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    nonce = re.search(r"script-src 'nonce-([^']+)'", page.headers["content-security-policy"]).group(1)
    assert f'<script nonce="{nonce}">' in page.text and "unsafe-inline" not in page.headers["content-security-policy"]


def test_direction_controls_in_user_text_are_shown_not_obeyed(trained_home: Settings) -> None:
    with TestClient(create_app(changed(trained_home, events_flush_interval=0.05))) as client:
        client.get("/recommend", params={"movie": "harmless\u202egpj.exe"})
        time.sleep(0.5)
        gaps = client.get("/console/panels").json()["html"]["gaps"]
    assert "harmless[U+202E]gpj.exe" in gaps and "\u202e" not in gaps


def test_raw_queries_stay_out_of_the_prometheus_metrics(trained_home: Settings) -> None:
    with TestClient(create_app(trained_home)) as client:
        client.get("/recommend", params={"movie": "a query only this user typed"})
        metrics = client.get("/metrics").text
    assert "only this user" not in metrics


def test_promoting_a_version_that_does_not_exist_is_a_404_even_where_models_is_read_only(two_versions: Settings) -> None:
    with TestClient(create_app(two_versions)) as client, read_only(two_versions.models_dir):
        missing = client.post("/admin/promote?version=20990101T000000Z-000000", headers=TOKEN)
    assert missing.status_code == 404 and "no model version" in missing.json()["detail"]


def test_a_repeated_single_valued_parameter_is_a_422_naming_it(two_versions: Settings) -> None:
    second = champion_and_other(Registry(two_versions.models_dir))[1]
    with TestClient(create_app(two_versions)) as client:
        twice = client.post(f"/admin/promote?version=nonexist&version={second}", headers=TOKEN)
        assert twice.status_code == 422 and twice.json()["detail"][0]["loc"] == ["query", "version"]
        assert Registry(two_versions.models_dir).champion_version() != second
        limit = client.get("/movies?q=toy&limit=1&limit=50")
        assert limit.status_code == 422 and limit.json()["detail"][0]["loc"] == ["query", "limit"]
        k = client.get("/recommend?movie=toy%20story&k=1&k=50")
        assert k.status_code == 422 and k.json()["detail"][0]["loc"] == ["query", "k"]
        escaped = client.get("/recommend?movie=toy%20story&k=1&%6B=50")  # the same name, written another way
        assert escaped.status_code == 422 and escaped.json()["detail"][0]["loc"] == ["query", "k"]
        excluded = client.get("/recommend?movie=toy%20story&exclude=1&exclude=2")
        assert excluded.status_code == 200  # exclude repeats by design


def test_movies_refuses_parameters_it_does_not_take(trained_home: Settings) -> None:
    with TestClient(create_app(trained_home)) as client:
        typo = client.get("/movies", params={"q": "toy", "limt": 50})
        assert typo.status_code == 422 and typo.json()["detail"][0]["loc"] == ["query", "limt"]
        assert client.get("/movies/1", params={"verbose": 1}).status_code == 422
        assert client.get("/movies", params={"q": "toy", "limit": 2}).status_code == 200


def test_head_answers_on_every_get_route_without_a_body(trained_home: Settings) -> None:
    with TestClient(create_app(trained_home)) as client:
        for path in ("/health", "/ready", "/model", "/metrics", "/movies?q=toy", "/recommend?movie=heat", "/console"):
            head, get = client.head(path), client.get(path)
            assert head.status_code == get.status_code == 200, path
            assert head.content == b"", path
