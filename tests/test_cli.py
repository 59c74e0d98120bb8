"""The `movie-r` command as a user runs it: real subprocesses, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import HEADER, MOVIES, write_csv


def movie_r(*args: str, home: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    command = [sys.executable, "-m", "movie_r.cli.main", *args]
    if home is not None:
        command += ["--home", str(home)]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)


def test_train_then_recommend_on_a_user_catalogue(tmp_path: Path, catalog_path: Path) -> None:
    home = tmp_path / "home"
    trained = movie_r("train", "--catalog", str(catalog_path), "--no-interactions", home=home)
    assert trained.returncode == 0, trained.stderr
    assert "(tfidf) champion" in trained.stdout
    assert "genre_precision@10" in trained.stdout
    answer = movie_r("recommend", "toy story", "-k", "3", "--json", home=home)
    body = json.loads(answer.stdout)
    assert body["match"]["id"] == 1
    assert body["recommendations"][0]["title"] == "Toy Story 2"
    assert set(body["recommendations"][0]) == {"id", "title", "year", "genres", "score", "reasons"}


def test_home_comes_from_the_environment(tmp_path: Path, catalog_path: Path) -> None:
    home = tmp_path / "from-env"
    result = movie_r("train", "--catalog", str(catalog_path), "--no-interactions", env={"MOVIE_R_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert (home / "models" / "champion").is_symlink()
    listing = movie_r("models", env={"MOVIE_R_HOME": str(home)})
    assert listing.stdout.count("\n* ") + listing.stdout.startswith("* ") == 1


def test_a_bad_catalogue_fails_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", HEADER, [*MOVIES, MOVIES[0]])
    home = tmp_path / "home"
    result = movie_r("train", "--catalog", str(bad), "--no-interactions", home=home)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("movie-r: error:")]
    assert len(errors) == 1 and "duplicate id 1" in errors[0] and "row 14" in errors[0]
    assert not (home / "models").exists()


def test_recommend_without_a_champion_says_what_to_do(tmp_path: Path) -> None:
    result = movie_r("recommend", "Heat", home=tmp_path)
    assert result.returncode == 1
    assert "run `movie-r train` first" in result.stderr


def test_bad_k_is_refused_with_the_parameter(tmp_path: Path, catalog_path: Path) -> None:
    movie_r("train", "--catalog", str(catalog_path), "--no-interactions", home=tmp_path)
    result = movie_r("recommend", "Heat", "-k", "500", home=tmp_path)
    assert result.returncode == 1
    assert "k: must be between 1 and 100" in result.stderr


@pytest.mark.slow
def test_default_data_trains_and_answers_the_acceptance_queries(tmp_path: Path) -> None:
    """The embedded MovieLens catalogue and ratings (TF-IDF here: tuning every kind is benchmarks/quality.py's job)."""
    trained = movie_r("train", "--model", "tfidf", home=tmp_path)
    assert trained.returncode == 0, trained.stderr
    assert "ndcg@10" in trained.stdout

    toy = json.loads(movie_r("recommend", "toy story", "--json", home=tmp_path).stdout)
    assert "Toy Story 2" in [item["title"] for item in toy["recommendations"]]

    typo = json.loads(movie_r("recommend", "Shawshank Redemtion", "--json", home=tmp_path).stdout)
    assert typo["match"]["title"] == "Shawshank Redemption, The"
    assert typo["match"]["method"] == "fuzzy"

    text = json.loads(movie_r("recommend", "space adventure with robots", "--json", home=tmp_path).stdout)
    assert text["cold_start"] is True
    assert text["match"]["method"] == "text"

    evaluated = movie_r("evaluate", home=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.splitlines()[1].split()[1] == trained.stdout.splitlines()[2].split()[1]


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = movie_r("serve", home=tmp_path, env={"MOVIE_R_LOOP": "tokio", "MOVIE_R_WORKERS": "0"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("movie-r: error: MOVIE_R_LOOP='tokio'") for line in lines), result.stderr
    assert any(line.startswith("movie-r: error: MOVIE_R_WORKERS='0'") for line in lines), result.stderr
    assert "Traceback" not in result.stderr


def test_the_workers_listening_socket_gets_tcp_nodelay_on_accepted_connections() -> None:
    """With several workers uvicorn's own socket left Nagle on (uvicorn issue 3149): ~40 ms per response."""
    import asyncio
    import socket

    import uvicorn

    from movie_r_api.cli import tcp_listener

    from .processes import free_port

    listener = tcp_listener(uvicorn.Config("movie_r_api.app:create_app", host="127.0.0.1", port=free_port()))

    async def nodelay_of_an_accepted_connection() -> int:
        loop = asyncio.get_running_loop()
        accepted = loop.create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await loop.create_server(Probe, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        try:
            return await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            server.close()

    assert asyncio.run(nodelay_of_an_accepted_connection()) == 1


def test_a_version_trained_beside_a_champion_says_how_to_serve_it(tmp_path: Path, catalog_path: Path) -> None:
    home = tmp_path / "home"
    first = movie_r("train", "--catalog", str(catalog_path), "--no-interactions", home=home)
    assert first.returncode == 0, first.stderr
    assert "promote" not in first.stdout  # the first version is champion: nothing to do
    second = movie_r("train", "--catalog", str(catalog_path), "--no-interactions", home=home)
    assert second.returncode == 0, second.stderr
    version = second.stdout.split()[1]
    assert f"movie-r promote {version}  " in second.stdout and f"movie-r promote {version} --force" in second.stdout
    assert "MOVIE_R_CATALOG=" in second.stdout  # --catalog is this command's only: the agent reads the setting


def test_a_short_admin_token_is_refused_at_start_in_one_line_that_does_not_show_it(tmp_path: Path) -> None:
    started = movie_r("serve", "--port", "0", home=tmp_path / "home", env={"MOVIE_R_ADMIN_TOKEN": "hunter2"})
    assert started.returncode != 0
    [line] = started.stderr.strip().splitlines()
    assert "MOVIE_R_ADMIN_TOKEN" in line and "16 characters" in line and "hunter2" not in line
