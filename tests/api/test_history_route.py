"""/recommend with a history: GET with several seeds, POST with a body; answers, reasons, refusals."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from movie_r.answering.history import MAX_SEEDS, Seed, recommend_from_history
from movie_r.answering.inference import Filters, Recommender
from movie_r.settings import Settings
from movie_r.storage.registry import Registry
from movie_r_api.app import create_app

from .test_routes import changed, events


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One trained home for the module: these tests only read it."""
    from movie_r.lifecycle.fitting import load_training_data
    from movie_r.lifecycle.training import train
    from tests.conftest import HEADER, MOVIES, write_csv

    root = tmp_path_factory.mktemp("history")
    catalog = write_csv(root / "catalog.csv", HEADER, MOVIES)
    settings = Settings(home=root / "home", catalog=catalog, interactions=None, neighbours=5, events_flush_interval=0.05)
    train(settings, load_training_data(catalog, None))
    return settings


@pytest.fixture(scope="module")
def client(home: Settings):
    with TestClient(create_app(home)) as test_client:
        yield test_client


def test_several_movies_in_a_query_are_a_history(client: TestClient) -> None:
    response = client.get("/recommend?movie=toy+story&movie=qqzzx+vvwq&movie_id=6&k=4")
    assert response.status_code == 200
    body = response.json()
    assert [seed["query"] for seed in body["seeds"]] == ["toy story", "qqzzx vvwq", "6"]
    assert [seed["match"] and seed["match"]["id"] for seed in body["seeds"]] == [1, None, 6]
    assert body["unresolved"] == ["qqzzx vvwq"] and body["cold_start"] is False and body["method"] == "history"
    ids = [item["id"] for item in body["recommendations"]]
    assert len(ids) == 4 and not {1, 6} & set(ids)
    assert all(item["reasons"][0].startswith("because you liked ") for item in body["recommendations"])
    assert response.headers["x-model-version"] == body["model_version"]


def test_the_answer_is_the_librarys(client: TestClient, home: Settings) -> None:
    champion = Registry(home.models_dir).champion()
    recommender = Recommender(champion.load(), champion.version)
    seeds = [Seed(movie="Alien", rating=4.0), Seed(movie_id=7), Seed(movie="wall-e", rating=5.0)]
    expected = recommend_from_history(recommender, seeds, 3, Filters(exclude=frozenset({12})))
    body = {
        "history": [{"movie": "Alien", "rating": 4.0}, {"movie_id": 7}, {"movie": "wall-e", "rating": 5.0}],
        "k": 3,
        "exclude": [12],
    }
    response = client.post("/recommend", json=body)
    assert response.status_code == 200
    served = response.json()
    assert served["recommendations"] == json.loads(json.dumps(expected.to_dict()["recommendations"]))
    assert [seed["weight"] for seed in served["seeds"]] == [seed.weight for seed in expected.seeds]


def test_times_order_a_posted_history(client: TestClient) -> None:
    late, early = "2024-05-02T20:00:00Z", "2024-05-01T20:00:00Z"
    body = {"history": [{"movie_id": 10, "at": late}, {"movie_id": 1, "at": early}], "k": 2}
    seeds = client.post("/recommend", json=body).json()["seeds"]
    assert seeds[0]["weight"] == 1.0 and seeds[1]["weight"] < 1.0


def test_no_seed_resolving_is_a_cold_start(client: TestClient) -> None:
    body = client.post("/recommend", json={"history": [{"movie_id": 404}, {"movie": "lonely robot in space"}], "k": 2}).json()
    assert body["cold_start"] is True and body["method"] == "text"
    assert body["unresolved"] == ["404", "lonely robot in space"]
    assert body["recommendations"][0]["title"] == "WALL·E"


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"history": []}, ["body", "history"]),
        ({"history": [{"movie": "Heat"}] * (MAX_SEEDS + 1)}, ["body", "history"]),
        ({"history": [{"movie": "Heat", "movie_id": 11}]}, ["body", "history"]),
        ({"history": [{"movie": ""}]}, ["body", "history"]),
        ({"history": [{"movie": "Heat", "rating": 9}]}, ["body", "history", 0, "rating"]),
        ({"history": [{"movie": "Heat", "at": "yesterday"}]}, ["body", "history", 0, "at"]),
        ({"history": [{"movie": "Heat\x00"}]}, ["body", "history", 0, "movie"]),
        ({"history": [{"movie": "Heat"}], "k": 0}, ["body", "k"]),
        ({"history": [{"movie": "Heat"}], "novelty": 0.5}, ["body", "novelty"]),
        ({"history": [{"movie": "Heat"}], "genre": "Polka"}, ["body", "genre"]),
        ({"movie": "Heat"}, ["body", "history"]),
    ],
)
def test_unusable_bodies_are_422s_naming_the_field(client: TestClient, body: dict, location: list) -> None:
    response = client.post("/recommend", json=body)
    assert response.status_code == 422, response.text
    assert location in [error["loc"] for error in response.json()["detail"]], response.text


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("&".join(["movie=Heat"] * (MAX_SEEDS + 1)), "movie"),
        ("movie=Heat&movie=", "movie"),
        ("movie=Heat&movie_id=eleven", "movie_id"),
        ("movie=Heat&movie=Alien&novelty=0.5", "novelty"),
        ("movie=Heat&movie=Alien&k=101", "k"),
        ("movie=Heat&movie=Alien&exclude=x", "exclude"),
        ("movie=Heat&movie=Alien&genre=Polka", "genre"),
    ],
)
def test_unusable_histories_in_a_query_are_422s_naming_the_parameter(client: TestClient, query: str, parameter: str) -> None:
    response = client.get(f"/recommend?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", parameter]


def test_a_body_over_the_limit_is_a_413(client: TestClient, home: Settings) -> None:
    padding = "x" * 150
    history = [{"movie": padding} for _ in range(MAX_SEEDS)] * 3  # bytes over the limit before any count is checked
    response = client.post("/recommend", content=json.dumps({"history": history}), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_feedback_on_a_history_answer_and_its_event(client: TestClient, home: Settings) -> None:
    answer = client.post("/recommend", json={"history": [{"movie": "Heat"}, {"movie_id": 4}], "k": 3}).json()
    liked = answer["recommendations"][0]["id"]
    response = client.post("/feedback", json={"request_id": answer["request_id"], "movie_id": liked, "action": "like"})
    assert response.status_code == 201
    refused = client.post("/feedback", json={"request_id": answer["request_id"], "movie_id": 4, "action": "like"})
    assert refused.status_code == 422  # a seed was not recommended
    time.sleep(0.3)
    [event] = [e for e in events(home) if e["request_id"] == answer["request_id"]]
    assert event["method"] == "history" and event["seeds"] == 2 and event["match_id"] == 4 and event["returned"] == 3


def test_without_a_champion_a_history_is_a_503(tmp_path) -> None:
    settings = changed(Settings(home=tmp_path / "empty"))
    with TestClient(create_app(settings)) as client:
        assert client.post("/recommend", json={"history": [{"movie": "Heat"}]}).status_code == 503
        assert client.post("/recommend", json={"history": []}).status_code == 422  # a bad body first
