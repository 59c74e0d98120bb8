"""Every endpoint and error of the API, in-process with TestClient."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from movie_r.settings import Settings
from movie_r.storage.records import RequestEvent
from movie_r.storage.registry import Registry
from movie_r_api.app import create_app

from .versions import corrupt_copy


def changed(settings: Settings, **changes: object) -> Settings:
    """A validated copy of `settings` with `changes`."""
    return Settings(**{**settings.model_dump(), **changes})


@pytest.fixture
def client(trained_home: Settings):
    settings = changed(trained_home, events_flush_interval=0.05, watch_interval=0.1)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def events(settings: Settings) -> list[dict]:
    lines = []
    for path in (settings.metrics_dir / "events").glob("*.jsonl"):
        lines += [json.loads(line) for line in path.read_text().splitlines()]
    return lines


def test_recommend_by_title(client: TestClient) -> None:
    response = client.get("/recommend", params={"movie": "toy story", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["match"] == {"id": 1, "title": "Toy Story", "method": "exact", "score": 100.0}
    assert body["cold_start"] is False
    assert body["recommendations"][0]["title"] == "Toy Story 2"
    assert response.headers["x-model-version"] == body["model_version"]
    assert response.headers["x-request-id"] == body["request_id"]


def test_recommend_by_id_with_filters(client: TestClient) -> None:
    response = client.get("/recommend", params={"movie_id": 1, "k": 5, "genre": "Comedy", "exclude": "2,12"})
    ids = [item["id"] for item in response.json()["recommendations"]]
    assert response.status_code == 200 and ids
    assert 2 not in ids and 12 not in ids


@pytest.mark.parametrize(
    "params",
    [
        {"movie": "toy story", "k": 3},
        {"movie": "Toy Story", "k": 3},  # same row as the line above: its list comes from the row cache
        {"movie_id": 1, "k": 3},
        {"movie": "toy stroy", "k": 3},
        {"movie": "hamlet", "k": 4},
        {"movie": "space adventure with robots", "k": 3},
        {"movie": "qwzx", "k": 2},
        {"movie_id": 1, "k": 5, "genre": "Comedy", "exclude": "2,12"},
        {"movie": "toy story"},  # the default k: lists precomputed when the version was saved
        {"movie_id": 4},
        {"movie": "hamlett"},
    ],
)
def test_answers_are_the_librarys_answers(client: TestClient, trained_home: Settings, params: dict) -> None:
    """Cached, pieced-together bodies hold exactly what `Recommender.recommend` returns."""
    from movie_r.answering.inference import Filters, Recommender
    from movie_r.storage.registry import Registry

    champion = Registry(trained_home.models_dir).champion()
    recommender = Recommender(champion.load(), champion.version)
    exclude = frozenset(int(i) for i in params.get("exclude", "").split(",") if i)
    filters = Filters(params.get("genre"), exclude=exclude)
    expected = recommender.recommend(params.get("movie"), params.get("movie_id"), params.get("k", 10), filters).to_dict()
    client.get("/recommend", params={"movie": "toy story", "k": 3})  # fills the row cache for row of id 1
    body = client.get("/recommend", params=params).json()
    assert list(body) == ["request_id", "model_version", *expected]
    assert {key: body[key] for key in expected} == expected


def test_client_request_id_is_kept_as_the_base_of_the_issued_one(client: TestClient) -> None:
    response = client.get("/recommend", params={"movie": "Heat"}, headers={"X-Request-ID": "abc-123"})
    assert response.json()["request_id"].startswith("abc-123.")


def test_same_title_lists_alternatives(client: TestClient) -> None:
    body = client.get("/recommend", params={"movie": "hamlet"}).json()
    assert body["match"]["id"] == 8
    assert body["alternatives"] == [{"id": 9, "title": "Hamlet", "year": 2000}]


def test_cold_start_text_and_popularity(client: TestClient) -> None:
    text = client.get("/recommend", params={"movie": "robot love in space"}).json()
    assert (text["cold_start"], text["match"]["method"]) == (True, "text")
    popular = client.get("/recommend", params={"movie": "zzqx"}).json()
    assert (popular["cold_start"], popular["match"]["method"]) == (True, "popular")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({}, "movie"),
        ({"movie": "Heat", "k": 0}, "k"),
        ({"movie": "Heat", "k": 101}, "k"),
        ({"movie": "Heat", "k": "ten"}, "k"),
        ({"movie": "x" * 201}, "movie"),
        ({"movie": "Heat\x07"}, "movie"),
        ({"movie": "Heat", "exclude": "1,two"}, "exclude"),
        ({"movie": "Heat", "year_min": 2000, "year_max": 1990}, "year_min"),
        ({"movie_id": "abc"}, "movie_id"),
    ],
)
def test_bad_queries_get_422_naming_the_parameter(client: TestClient, params: dict, parameter: str) -> None:
    response = client.get("/recommend", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", parameter]


def test_unknown_movie_id_is_404(client: TestClient) -> None:
    assert client.get("/recommend", params={"movie_id": 404}).status_code == 404
    assert client.get("/movies/404").status_code == 404


def test_movies_search_and_lookup(client: TestClient) -> None:
    hits = client.get("/movies", params={"q": "toy", "limit": 5}).json()
    assert [hit["id"] for hit in hits[:2]] == [1, 2]
    assert client.get("/movies/3").json()["title"] == "Shawshank Redemption, The"


def test_health_ready_and_model(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["model_version"]
    model = client.get("/model").json()
    assert model["version"] == ready.json()["model_version"]
    assert model["evaluation"]["score_name"] == "genre_precision@10"
    assert model["age_hours"] >= 0


def test_repeated_query_strings_skip_parsing_and_spellings_share_answers(client: TestClient) -> None:
    answers = client.app.state.movie_r.watcher.current.answers
    first = client.get("/recommend?movie=Toy+Story&k=4&exclude=3")
    again = client.get("/recommend?movie=Toy+Story&k=4&exclude=3")
    reordered = client.get("/recommend?exclude=3&k=4&movie=Toy%20Story")
    assert answers.for_query_string.cache_info().hits == 1
    assert answers.get.cache_info().hits >= 1  # the reordered spelling met the first in `get`
    bodies = [{key: value for key, value in r.json().items() if key != "request_id"} for r in (first, again, reordered)]
    assert bodies[0] == bodies[1] == bodies[2] and len(bodies[0]["recommendations"]) == 4
    assert 3 not in [movie["id"] for movie in bodies[0]["recommendations"]]
    assert client.get("/recommend?movie=Toy+Story&k=400").status_code == 422  # errors are never cached
    assert client.get("/recommend?movie=Toy+Story&k=400").status_code == 422


def test_default_answers_come_from_the_versions_precomputed_lists(client: TestClient) -> None:
    answers = client.app.state.movie_r.watcher.current.answers
    assert answers.lists is not None and len(answers.lists) == 12
    for params in ({"movie": "heat"}, {"movie_id": 8}, {"movie": "notting hil", "k": 10}):
        assert client.get("/recommend", params=params).status_code == 200
    assert answers._similar.cache_info().misses == 0  # nothing was ranked on demand
    client.get("/recommend", params={"movie": "heat", "k": 4})
    assert answers._similar.cache_info().misses == 1


def test_altered_lists_refuse_the_version_and_the_champion_keeps_serving(client: TestClient, trained_home: Settings) -> None:
    registry = Registry(trained_home.models_dir)
    serving = registry.champion_version()
    altered = "29990101T000000Z-bad111"
    corrupt_copy(registry, serving, altered, "lists.npz")
    registry.set_champion(altered)
    deadline = time.monotonic() + 5
    while client.get("/model").json()["last_reload_error"] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "lists.npz checksum mismatch" in client.get("/model").json()["last_reload_error"]
    response = client.get("/recommend", params={"movie": "heat"})
    assert response.status_code == 200 and response.headers["x-model-version"] == serving


def test_popular_answers_are_computed_before_a_model_serves(trained_home: Settings) -> None:
    with TestClient(create_app(changed(trained_home, warm_answers=5))) as client:
        answers = client.app.state.movie_r.watcher.current.answers
        recommender = answers.recommender
        assert answers.get.cache_info().currsize == 10  # five titles, five ids
        top, sixth = (recommender.movie(int(row)) for row in recommender.popular_rows()[[0, 5]])
        client.get("/recommend", params={"movie": top["title"]})
        client.get("/recommend", params={"movie_id": top["id"]})
        assert answers.get.cache_info().hits == 2
        client.get("/recommend", params={"movie_id": sixth["id"]})
        assert answers.get.cache_info().misses == 11


def test_openapi_describes_every_parameter_and_response(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    operations = {(path, method): operation for path, item in paths.items() for method, operation in item.items()}
    assert len(operations) == 15  # 10, the console's 3 and admin promote and rollback
    for (path, _method), operation in operations.items():
        assert operation["responses"]["500"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}, path
        assert operation.get("summary"), path
        for parameter in operation.get("parameters", []):
            assert parameter["description"], (path, parameter["name"])
    recommend = operations[("/recommend", "get")]
    assert [p["name"] for p in recommend["parameters"]] == ["movie", "movie_id", "k", "genre", "year_min", "year_max", "exclude", "novelty"]
    assert set(recommend["responses"]) == {"200", "404", "414", "422", "500", "503"}
    answers = recommend["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    assert answers == [{"$ref": "#/components/schemas/RecommendResponse"}, {"$ref": "#/components/schemas/HistoryResponse"}]
    history = operations[("/recommend", "post")]
    assert history["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/HistoryRequest"}
    assert set(history["responses"]) == {"200", "413", "422", "500", "503"}


def test_prometheus_metrics_count_requests_and_cold_starts(client: TestClient) -> None:
    client.get("/recommend", params={"movie": "toy story"})
    client.get("/recommend", params={"movie": "robot love in space"})
    text = client.get("/metrics").text
    assert 'movie_r_requests_total{endpoint="/recommend",outcome="200"} 2.0' in text
    assert 'movie_r_cold_starts_total{method="text"} 1.0' in text
    assert "movie_r_request_latency_seconds_bucket" in text
    assert "movie_r_similarity_score_count 2.0" in text  # exact and text answers both have one
    assert 'movie_r_model_info{version="' in text
    assert "movie_r_seconds_since_last_retrain" in text
    assert 'movie_r_model_reloads_total{result="success"} 1.0' in text


def test_every_recommend_is_persisted_as_an_event(client: TestClient, trained_home: Settings) -> None:
    client.get("/recommend", params={"movie": "toy story", "k": 2})
    client.get("/recommend", params={"movie": "robot love in space"})
    client.get("/recommend", params={"k": 0, "movie": "Heat"})
    client.get("/recommend", params=[("movie", "toy story"), ("movie_id", 2)])
    time.sleep(0.3)
    recorded = events(trained_home)
    # each line is a RequestEvent's fields by name, written without the model (a misspelt key would be an "extra")
    assert all(set(e) <= set(RequestEvent.model_fields) for e in recorded), [set(e) - set(RequestEvent.model_fields) for e in recorded]
    assert [RequestEvent.model_validate(e).status for e in recorded] == [200, 200, 422, 200]
    *recorded, history = recorded
    assert history["seeds"] == 2 and history["match_id"] == 2
    exact, cold, bad = recorded
    assert exact["method"] == "exact" and exact["cold_start"] is False and exact["k"] == 2
    assert exact["top1_similarity"] >= exact["mean_similarity"] > 0
    assert exact["query"] is None
    assert cold["query"] == "robot love in space" and cold["cold_start"] is True
    assert all(e["latency_ms"] is None or e["latency_ms"] >= 0 for e in recorded)


def test_feedback_is_appended_durably(client: TestClient, trained_home: Settings) -> None:
    request_id = client.get("/recommend", params={"movie": "Heat"}).json()["request_id"]
    response = client.post("/feedback", json={"request_id": request_id, "movie_id": 2, "action": "like"})
    assert response.status_code == 201
    [log] = list(trained_home.feedback_dir.glob("*.jsonl"))
    assert json.loads(log.read_text())["action"] == "like"
    unknown = client.post("/feedback", json={"request_id": request_id, "movie_id": 404, "action": "like"})
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "movie_id"]
    assert client.post("/feedback", json={"request_id": request_id, "movie_id": 2, "action": "love"}).status_code == 422


def test_admin_routes_are_forbidden_without_a_configured_token(client: TestClient) -> None:
    assert client.post("/admin/reload", headers={"Authorization": "Bearer anything"}).status_code == 403


def test_admin_reload_needs_the_right_bearer_token(trained_home: Settings) -> None:
    settings = changed(trained_home, admin_token="s3cret-admin-token-16")
    with TestClient(create_app(settings)) as client:
        assert client.post("/admin/reload").status_code == 401
        assert client.post("/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code == 401
        response = client.post("/admin/reload", headers={"Authorization": "Bearer s3cret-admin-token-16"})
        assert response.status_code == 200
        assert response.json()["model_version"]


def test_without_a_champion_the_service_stays_up_and_picks_one_up(tmp_path: Path, trained_home: Settings) -> None:
    settings = Settings(home=tmp_path / "empty", watch_interval=0.1)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 503
        assert client.get("/recommend", params={"movie": "Heat"}).status_code == 503
        assert client.get("/recommend", params={"movie": "Heat", "k": 0}).status_code == 422  # bad query first
        assert client.get("/model").status_code == 503
        settings.home.mkdir(exist_ok=True)  # the API made it for metrics/ at start
        shutil.rmtree(settings.keys_path)  # the request-id secret the API made for itself
        os.symlink(trained_home.keys_path, settings.keys_path)  # the keys the trainer signed with
        os.symlink(trained_home.models_dir, settings.models_dir)
        deadline = time.monotonic() + 5
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/ready").status_code == 200


def test_unwritable_metrics_directory_does_not_fail_requests(trained_home: Settings) -> None:
    blocked = trained_home.home / "blocked"
    blocked.write_text("a file where the metrics directory should be")
    settings = changed(trained_home, events_flush_interval=0.05)
    with TestClient(create_app(settings)) as client:
        client.app.state.movie_r.events.directory = blocked / "events"
        assert client.get("/recommend", params={"movie": "toy story"}).status_code == 200
        time.sleep(0.3)
        assert "movie_r_events_dropped 1.0" in client.get("/metrics").text


def test_unexpected_errors_get_a_generic_500_without_internals(trained_home: Settings) -> None:
    with TestClient(create_app(trained_home), raise_server_exceptions=False) as client:
        client.app.state.movie_r.watcher.current.recommender.resolve = None  # a bug, as far as the route can tell
        response = client.get("/recommend", params={"movie": "a query no answer is cached for"})
    assert response.status_code == 500
    assert response.json()["detail"] == "internal error"
    assert "Traceback" not in response.text and "NoneType" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]
