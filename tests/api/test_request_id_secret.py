"""Replicas over one storage root keep accepting each other's request ids when the shared secret is deleted."""

from __future__ import annotations

import httpx

from movie_r.settings import Settings

from ..processes import start_api, stop, wait_until


def _answer_accepted_elsewhere(answering: str, recording: str) -> bool:
    answer = httpx.get(f"{answering}/recommend", params={"movie": "toy story"}).json()
    movie = answer["recommendations"][0]["id"]
    feedback = {"request_id": answer["request_id"], "movie_id": movie, "action": "click"}
    return httpx.post(f"{recording}/feedback", json=feedback).status_code == 201


def test_replicas_converge_on_one_secret_after_it_is_deleted(trained_home: Settings) -> None:
    home, keys = trained_home.home, trained_home.keys_path
    first, first_url = start_api(home)
    second = None
    try:
        assert _answer_accepted_elsewhere(first_url, first_url)
        for secret in (keys / "request-ids.secret", keys / "api" / "request-ids.secret"):
            secret.unlink(missing_ok=True)
        second, second_url = start_api(home)
        converged = wait_until(
            lambda: _answer_accepted_elsewhere(first_url, second_url) and _answer_accepted_elsewhere(second_url, first_url),
            timeout=15,
            interval=0.5,
        )
        assert converged, "each replica still refuses the other's request ids"
        log = (home / "serve.log").read_text()
        assert "request ids" in log and "Traceback" not in log
    finally:
        stop(first)
        if second is not None:
            stop(second)
