"""The documented response models describe what the core answers: the same fields, and a real
answer validates against them."""

from __future__ import annotations

from dataclasses import fields
from urllib.parse import urlencode

from movie_r.answering import inference
from movie_r.answering.inference import Recommender
from movie_r.answering.match_method import MatchMethod
from movie_r_api import schemas


def test_the_response_models_have_the_core_records_fields() -> None:
    assert set(schemas.RecommendResponse.model_fields) - {"request_id", "model_version"} == {f.name for f in fields(inference.RecommendResult)}
    assert set(schemas.Match.model_fields) == {f.name for f in fields(inference.Match)}
    assert set(schemas.Recommendation.model_fields) == {f.name for f in fields(inference.Recommendation)}
    assert schemas.MatchMethod is MatchMethod


def test_real_answers_validate_against_the_documented_response(small_recommender: Recommender) -> None:
    for query in ["toy story", "hamlet", "toy stroy", "a robot in space", "zzzz"]:
        answer = small_recommender.recommend(query, k=3).to_dict()
        schemas.RecommendResponse.model_validate({"request_id": "r", "model_version": "v", **answer}, strict=False)
    alternatives = small_recommender.recommend("hamlet", k=3).alternatives
    assert alternatives and all(set(item) == set(schemas.Alternative.model_fields) for item in alternatives)


def test_the_schema_refuses_the_characters_the_core_refuses() -> None:
    for character in ["\x00", "\x1f", "\x7f", "\x85", "\x9f"]:
        try:
            schemas.RecommendQuery.from_query_string(urlencode({"movie": f"a{character}b"}).encode())
        except Exception as exc:  # pydantic's ValidationError or the core's QueryError: a 422 either way
            assert "control" in str(exc) or "pattern" in str(exc), exc
        else:
            raise AssertionError(f"{character!r} was accepted")
