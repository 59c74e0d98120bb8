"""The README's own-catalogue commands, run verbatim as a new user would, on MovieLens-shaped files.

The block is read out of README.md, so the README and this test cannot drift apart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from movie_r.storage.registry import Registry
from tests.synthetic import synthetic_catalog

from ..processes import free_port, wait_until

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# what `make run` needs from a checkout; the test runs in a directory of its own beside them
CHECKOUT = ("Makefile", "scripts", ".venv", "requirements.txt", "requirements-dev.txt", "pyproject.toml")


def readme_commands(section: str) -> list[str]:
    """The lines of the first ```sh block under the README heading `section`."""
    text = (REPO / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    block = body.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def write_movielens_files(directory: Path, n_movies: int = 80, n_users: int = 60) -> list[int]:
    """`movies.csv` and `ratings.csv` exactly as MovieLens ships them (ids unlike the embedded data's)."""
    movies = synthetic_catalog(n_movies, seed=7)
    ids = (movies["id"] * 7 + 500_000).tolist()
    lines = ["movieId,title,genres"]
    for movie_id, title, genres, year in zip(ids, movies["title"], movies["genres"], movies["year"], strict=True):
        lines.append(f'{movie_id},"{title} ({int(year)})",{"|".join(genres)}')
    (directory / "my_movies.csv").write_text("\n".join(lines) + "\n")
    rng = np.random.default_rng(8)
    ratings = ["userId,movieId,rating,timestamp"]
    for user in range(1, n_users + 1):
        for step, movie in enumerate(rng.choice(ids, size=20, replace=False)):
            ratings.append(f"{user},{movie},{rng.choice([2.0, 3.5, 4.0, 4.5, 5.0])},{1_600_000_000 + user * 1000 + step}")
    (directory / "my_ratings.csv").write_text("\n".join(ratings) + "\n")
    return ids


def test_the_own_catalogue_commands_run_as_written(tmp_path: Path) -> None:
    # `make run` in the directory beside the checkout must not reinstall the checkout's venv from there
    up_to_date = subprocess.run(["make", "-q", "venv"], cwd=REPO, capture_output=True, check=False)
    assert up_to_date.returncode == 0, "the checkout's .venv is out of date: run `make venv` (as `make test` does) first"
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    for name in CHECKOUT:
        (work / name).symlink_to(REPO / name)
    ids = write_movielens_files(work)
    env = {**os.environ, "MOVIE_R_HOME": str(home)}
    env.pop("MOVIE_R_INTERACTIONS", None)
    env.pop("MOVIE_R_CATALOG", None)
    *trainings, serve = readme_commands("Your own data")
    assert len(trainings) == 2 and serve.endswith("make run")

    for line in trainings:
        done = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    content_only, with_ratings = [v.manifest.data for v in Registry(home / "models").versions()]
    assert content_only.interactions is None, "the embedded ratings met another catalogue"
    assert content_only.catalog is not None and with_ratings.interactions is not None
    assert content_only.catalog.path == "my_movies.csv" and content_only.catalog.rows == len(ids)
    assert with_ratings.interactions.path == "my_ratings.csv"

    port = free_port()
    log = tmp_path / "make-run.log"
    with open(log, "wb") as output:
        run = subprocess.Popen(
            ["bash", "-c", serve], cwd=work, env={**env, "MOVIE_R_PORT": str(port)},
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, timeout=60), log.read_text()
        answer = httpx.get(f"{url}/recommend", params={"movie_id": ids[0], "k": 5}).json()
        assert answer["recommendations"] and {r["id"] for r in answer["recommendations"]} <= set(ids)
        # the "(yyyy)" MovieLens titles end with became the year
        assert not answer["match"]["title"].endswith(")") and answer["recommendations"][0]["year"] is not None
        assert wait_until(lambda: _decisions(home), timeout=120), log.read_text()
        first = _decisions(home)[0]
        fired = {t["name"] for t in first["triggers"] if t["fired"]}
        assert {"data_changed", "unused_interactions"} <= fired and "catalog_mismatch" not in fired
    finally:
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        stopped = time.monotonic()
        run.wait(10)
    assert time.monotonic() - stopped < 3, log.read_text()
    assert "Traceback" not in log.read_text()


def _decisions(home: Path) -> list[dict]:
    path = home / "reports" / "decisions.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
