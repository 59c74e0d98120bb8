"""What outside input can grow is bounded: the answer caches, the query string."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from movie_r.settings import Settings
from movie_r_api.app import create_app

from .test_routes import changed


@pytest.fixture
def small_cache(trained_home: Settings):
    settings = changed(trained_home, cache_mb=1, warm_answers=0)
    with TestClient(create_app(settings)) as client:
        yield client, client.app.state.movie_r.watcher.current.answers


def test_unknown_parameters_are_refused_and_never_cached(small_cache) -> None:
    client, answers = small_cache
    before = len(answers.for_query_string)
    for i in range(300):
        response = client.get("/recommend", params={"movie": "Heat", "pad": f"{i:05d}" + "x" * 6000})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "pad"]
    assert len(answers.for_query_string) == before


def test_the_answer_caches_stay_within_their_memory_budget(small_cache) -> None:
    client, answers = small_cache
    for i in range(400):  # distinct valid requests, each as large as the limits allow
        excluded = ",".join(str(n) for n in range(1000 + i, 1000 + i + 499))
        response = client.get("/recommend", params={"movie": f"{i} " + "robot " * 30, "k": 100, "exclude": excluded})
        assert response.status_code == 200
    memos = (answers.for_query_string, answers.get, answers._similar, answers._precomputed)
    for memo in memos:
        assert memo.bytes <= (1 << 20) // len(memos)
    assert sum(memo.bytes for memo in memos) <= 1 << 20
    assert 0 < len(answers.for_query_string) < 400  # the oldest made room


def test_a_query_string_beyond_the_limit_is_a_414(small_cache) -> None:
    client, _ = small_cache
    response = client.get("/recommend", params={"movie": "Heat", "exclude": ",".join(["1"] * 5000)})
    assert response.status_code == 414 and "longer than 8192 bytes" in response.json()["detail"]


def test_more_than_500_excluded_ids_is_a_422_naming_exclude(small_cache) -> None:
    client, _ = small_cache
    response = client.get("/recommend", params={"movie": "Heat", "exclude": ",".join(str(n) for n in range(600))})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "exclude"]
