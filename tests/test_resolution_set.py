"""The labelled resolution set: written by its script's rules, and resolved as well as promised."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from movie_r.answering.titles import TitleIndex
from movie_r.data.loading import load_catalog
from movie_r.lifecycle.evaluation import resolution_scores
from movie_r.settings import Settings

from .conftest import REPO

SET = REPO / "tests" / "data" / "resolution_set.json"
SLIPS = {"typo", "typo-across-space", "typo-space", "typo-short-word"}
CATEGORIES = {"exact", "partial", "sequel", "alternate", "description", "unknown"} | SLIPS


def test_the_set_is_what_its_script_writes(tmp_path: Path) -> None:
    """Rules, not hand edits: the committed file is the script's output, category by category."""
    out = tmp_path / "set.json"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_resolution_set.py"), "--out", str(out)], check=True, capture_output=True)
    assert json.loads(out.read_text()) == json.loads(SET.read_text())
    counts = Counter(case["category"] for case in json.loads(SET.read_text())["cases"])
    assert sum(counts.values()) >= 300 and set(counts) == CATEGORIES
    assert all(counts[slip] >= 60 for slip in SLIPS)


def test_resolution_meets_its_targets_on_the_set() -> None:
    movies = load_catalog(Settings().catalog).movies
    titles, ids = movies["title"].tolist(), movies["id"].astype(int).tolist()
    scores = resolution_scores(TitleIndex(titles, movies["popularity"].to_numpy()), titles, ids, json.loads(SET.read_text())["cases"])
    assert scores.title_precision >= 0.97 and scores.title_recall >= 0.90, scores.wrong
    assert scores.cold_precision >= 0.97 and scores.cold_recall >= 0.90, scores.wrong


def test_slips_around_spaces_and_in_short_words_resolve_and_made_up_titles_stay_cold() -> None:
    movies = load_catalog(Settings().catalog).movies
    titles, ids = movies["title"].tolist(), movies["id"].astype(int).tolist()
    cases = json.loads(SET.read_text())["cases"]
    scores = resolution_scores(TitleIndex(titles, movies["popularity"].to_numpy()), titles, ids, cases)
    slips = Counter(case["category"] for case in cases if case["category"] in SLIPS)
    wrong = Counter(category for category, _, _ in scores.wrong if category in SLIPS)
    assert 1 - sum(wrong.values()) / sum(slips.values()) >= 0.95, scores.wrong
    assert scores.title_precision >= 0.99 and scores.cold_recall == 1.0, scores.wrong
