"""Shared fixtures: small real catalogues written to tmp_path, and a fitted model on them."""

from __future__ import annotations

import csv
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from movie_r.answering.inference import Recommender
from movie_r.data.loading import load_catalog
from movie_r.recommenders.pipeline import build_pipeline, fit_pipeline
from movie_r.storage.registry import Registry

REPO = Path(__file__).resolve().parents[1]

MOVIES = [
    # id, title, genre, overview, year, popularity
    (1, "Toy Story", "Animation|Children|Comedy", "A cowboy doll is threatened by a new spaceman toy.", 1995, 250),
    (2, "Toy Story 2", "Animation|Children|Comedy", "Woody the toy is stolen by a collector.", 1999, 120),
    (3, "Shawshank Redemption, The", "Crime|Drama", "A banker is sentenced to prison for murder.", 1994, 300),
    (4, "Dark Knight, The", "Action|Crime|Drama", "Batman faces the Joker in Gotham.", 2008, 280),
    (5, "Amélie", "Comedy|Romance", "A shy waitress decides to change the lives of others in Paris.", 2001, 90),
    (6, "WALL·E", "Animation|Children|Sci-Fi", "A lonely robot cleans an abandoned Earth and falls in love in space.", 2008, 150),
    (7, "Robots", "Animation|Comedy|Sci-Fi", "A young robot inventor travels to the big city.", 2005, 40),
    (8, "Hamlet", "Drama", "The prince of Denmark avenges his father.", 1996, 30),
    (9, "Hamlet", "Drama", "A modern New York retelling of the Danish prince.", 2000, 10),
    (10, "Alien", "Horror|Sci-Fi", "The crew of a spaceship meets a deadly creature.", 1979, 200),
    (11, "Heat", "Action|Crime|Thriller", "A detective hunts a crew of bank robbers in Los Angeles.", 1995, 110),
    (12, "Notting Hill", "Comedy|Romance", "A bookseller falls for a film star.", 1999, 70),
]

HEADER = ["id", "title", "genre", "overview", "year", "popularity"]


# tracked files a test could be tempted to regenerate in place (text a developer may be
# editing while the suite runs is left out: its change would not be the tests')
GUARDED = ("docs/console.png", "data")


def _tracked_state() -> dict[str, tuple[int, int]]:
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", *GUARDED], capture_output=True, text=True)
    files = [REPO / name for name in listed.stdout.splitlines()] if listed.returncode == 0 else []
    return {str(f): (f.stat().st_mtime_ns, f.stat().st_size) for f in files if f.is_file()}


@pytest.fixture(scope="session", autouse=True)
def repo_files_stay_untouched() -> Iterator[None]:
    """Tests write only under their tmp dirs: a run that changed the screenshot or a file of
    data/ fails (`make screenshot` regenerates docs/console.png on purpose)."""
    before = _tracked_state()
    yield
    if os.environ.get("MOVIE_R_SCREENSHOT"):
        return
    changed = sorted(name for name, state in _tracked_state().items() if before.get(name) != state)
    assert not changed, f"the tests rewrote tracked files: {changed}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files holding slow or browser tests first, each file's tests in their own order.

    `make test` hands whole files to its workers in this order (`--dist loadfile
    --no-loadscope-reorder`): the long files start at once and the many short ones even out
    the end. xdist's own order, most tests first, left the one-test end-to-end files, the
    longest of all, for last, where one worker ran them while the other had nothing left."""
    heavy = {item.path for item in items if item.get_closest_marker("slow") or item.get_closest_marker("browser")}
    items.sort(key=lambda item: item.path not in heavy)  # stable: a file's tests stay together, in order


def write_csv(path: Path, header: list[str], rows: list[tuple | list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "catalog.csv", HEADER, MOVIES)


@pytest.fixture
def small_recommender(catalog_path: Path) -> Recommender:
    catalog = load_catalog(catalog_path)
    pipeline = fit_pipeline(build_pipeline("tfidf", {"recommender__n_neighbors": 5}), catalog.movies)
    return Recommender(pipeline, "test-version")


@pytest.fixture
def trained_home(tmp_path: Path, catalog_path: Path):
    """A storage root holding one champion trained on the small catalogue (no interactions)."""
    from movie_r.lifecycle.fitting import load_training_data
    from movie_r.lifecycle.training import train
    from movie_r.settings import Settings

    settings = Settings(home=tmp_path / "home", catalog=catalog_path, interactions=None, neighbours=5)
    train(settings, load_training_data(catalog_path, None))
    return settings


def champion_and_other(registry: Registry) -> tuple[str, str]:
    """Ids of one second sort by their random suffix, not by age: ask the champion link."""
    champion = registry.champion_version()
    assert champion is not None
    return champion, next(v.version for v in registry.versions() if v.version != champion)
