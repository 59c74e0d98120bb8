"""The docs pages work without internet, and a genre the catalogue lacks is a 422 that lists it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from .test_routes import client  # noqa: F401  (fixture)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_same_origin_assets_and_they_answer(client: TestClient, page: str) -> None:  # noqa: F811
    html = client.get(page).text
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""", html)
    urls = [found for pair in references for found in pair if found]
    assert urls, html
    assert not re.search(r"https?://", html), "the page names another origin"
    for url in urls:
        assert not urlsplit(url).netloc, url
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 0


def test_an_unknown_genre_is_a_422_naming_the_known_ones(client: TestClient) -> None:  # noqa: F811
    response = client.get("/recommend", params={"movie": "toy story", "genre": "Nonsense"})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["query", "genre"]
    assert "unknown genre 'Nonsense'" in detail["msg"] and "Animation" in detail["msg"] and "Sci-Fi" in detail["msg"]
    assert client.get("/recommend", params={"movie": "toy story", "genre": "comedy"}).status_code == 200
